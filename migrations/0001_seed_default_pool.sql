-- The pool every deployment has out of the box (heartbeat interval 10 s).
INSERT INTO `pools` (`name`, `interval_ms`, `created_at`) VALUES ('default', 10000, 0);
