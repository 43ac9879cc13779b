CREATE TABLE `x2go_cookies` (
	`cookie_hash` text PRIMARY KEY NOT NULL,
	`login` text NOT NULL,
	`client_ip` text NOT NULL,
	`password_version` text NOT NULL,
	`auth_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `x2go_cookies_expires_idx` ON `x2go_cookies` (`expires_at`);