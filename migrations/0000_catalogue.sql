CREATE TABLE `enrolment_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`pool` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_by` text,
	FOREIGN KEY (`pool`) REFERENCES `pools`(`name`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `nodes` (
	`server_id` text PRIMARY KEY NOT NULL,
	`pool` text NOT NULL,
	`hostname` text NOT NULL,
	`public_key_jwk` text NOT NULL,
	`origin_url` text NOT NULL,
	`client_address` text,
	`static_overrides` text DEFAULT '{}' NOT NULL,
	`draining` integer DEFAULT false NOT NULL,
	`enrolled_at` integer NOT NULL,
	FOREIGN KEY (`pool`) REFERENCES `pools`(`name`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_hostname_unique` ON `nodes` (`hostname`);--> statement-breakpoint
CREATE INDEX `nodes_pool_idx` ON `nodes` (`pool`);--> statement-breakpoint
CREATE TABLE `pools` (
	`name` text PRIMARY KEY NOT NULL,
	`interval_ms` integer NOT NULL,
	`created_at` integer NOT NULL
);
