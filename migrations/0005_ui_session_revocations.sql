CREATE TABLE `revoked_ui_sessions` (
	`session_id` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `revoked_ui_sessions_expires_idx` ON `revoked_ui_sessions` (`expires_at`);