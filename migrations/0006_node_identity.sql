ALTER TABLE `enrolment_tokens` ADD `server_id` text;--> statement-breakpoint
ALTER TABLE `enrolment_tokens` ADD `pre_approved` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `nodes` ADD `approved` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `nodes` ADD `assertion_salt` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_origin_url_unique` ON `nodes` (`origin_url`);--> statement-breakpoint
ALTER TABLE `pools` ADD `origin_patterns` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `allow_private_origins` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `pools` ADD `require_approval` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `profiles` ADD `max_sessions_per_user` integer DEFAULT 3 NOT NULL;--> statement-breakpoint
-- Every node gets an assertion key of its own now (random salt); nodes re-key to learn theirs.
UPDATE `nodes` SET `assertion_salt` = lower(hex(randomblob(16)));