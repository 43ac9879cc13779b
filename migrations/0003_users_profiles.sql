CREATE TABLE `login_failures` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`failures` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `profiles` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`pool` text NOT NULL,
	`mode` text NOT NULL,
	`hosts` text DEFAULT '[]' NOT NULL,
	`command` text DEFAULT '' NOT NULL,
	`policy` text,
	`acl` text DEFAULT '{}' NOT NULL,
	`x2go_options` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`pool`) REFERENCES `pools`(`name`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `profiles_pool_idx` ON `profiles` (`pool`);--> statement-breakpoint
CREATE TABLE `users` (
	`login` text PRIMARY KEY NOT NULL,
	`password_hash` text NOT NULL,
	`groups` text DEFAULT '[]' NOT NULL,
	`is_admin` integer DEFAULT false NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
