CREATE TABLE `known_sign_in_addresses` (
	`login` text NOT NULL,
	`address` text NOT NULL,
	`last_success_at` integer NOT NULL,
	PRIMARY KEY(`login`, `address`)
);
--> statement-breakpoint
CREATE INDEX `known_sign_in_addresses_last_success_idx` ON `known_sign_in_addresses` (`last_success_at`);--> statement-breakpoint
CREATE INDEX `login_failures_window_start_idx` ON `login_failures` (`window_start`);