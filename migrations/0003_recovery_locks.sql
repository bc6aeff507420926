CREATE TABLE `recovery_locks` (
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`instance_uuid` text(36) NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`notification_uuid`, `run`, `instance_uuid`)
);
