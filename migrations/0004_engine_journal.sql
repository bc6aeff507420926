CREATE TABLE `recovery_journal` (
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`name` text NOT NULL,
	`value` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`notification_uuid`, `run`, `name`)
);
--> statement-breakpoint
CREATE TABLE `recovery_moves` (
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`flow` integer NOT NULL,
	`attempt` text NOT NULL,
	`instance_uuid` text(36) NOT NULL,
	`name` text NOT NULL,
	`seq` integer NOT NULL,
	`ha` integer NOT NULL,
	`vm_state` text,
	`selected` integer DEFAULT 0 NOT NULL,
	`position` integer,
	`vmove_uuid` text(36),
	`stage` text NOT NULL,
	`state` text,
	`result` text,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`notification_uuid`, `run`, `flow`, `attempt`, `instance_uuid`)
);
--> statement-breakpoint
CREATE INDEX `recovery_moves_stage` ON `recovery_moves` (`notification_uuid`,`run`,`flow`,`attempt`,`stage`,`position`);--> statement-breakpoint
CREATE TABLE `recovery_phases` (
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`scope` text NOT NULL,
	`kind` text NOT NULL,
	`params` text NOT NULL,
	`link` integer DEFAULT 0 NOT NULL,
	`generation` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`done_at` text,
	`max_steps` integer,
	`max_subrequests` integer,
	PRIMARY KEY(`notification_uuid`, `run`, `scope`)
);
--> statement-breakpoint
CREATE TABLE `recovery_reserved_claims` (
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`flow` integer NOT NULL,
	`attempt` text NOT NULL,
	`segment_uuid` text(36) NOT NULL,
	`host_name` text NOT NULL,
	`created_at` text NOT NULL,
	`released_at` text,
	`outcome` text,
	`reason` text,
	PRIMARY KEY(`notification_uuid`, `run`, `flow`, `attempt`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `recovery_reserved_claims_open` ON `recovery_reserved_claims` (`segment_uuid`,`host_name`) WHERE released_at IS NULL;--> statement-breakpoint
CREATE TABLE `recovery_server_locks` (
	`notification_uuid` text(36) NOT NULL,
	`instance_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`created_at` text NOT NULL,
	`released_at` text,
	PRIMARY KEY(`notification_uuid`, `instance_uuid`)
);
--> statement-breakpoint
CREATE INDEX `recovery_server_locks_open` ON `recovery_server_locks` (`released_at`,`notification_uuid`);--> statement-breakpoint
ALTER TABLE `recovery_runs` ADD `generation` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `recovery_runs` ADD `claimed_at` text;--> statement-breakpoint
ALTER TABLE `recovery_runs` ADD `max_steps` integer;--> statement-breakpoint
ALTER TABLE `recovery_runs` ADD `max_subrequests` integer;--> statement-breakpoint
-- Locks of earlier runs: those of notifications still under recovery stay
-- open, so the periodic work unlocks them once the notification ends.
INSERT INTO `recovery_server_locks` (`notification_uuid`, `instance_uuid`, `run`, `created_at`, `released_at`)
  SELECT l.`notification_uuid`, l.`instance_uuid`, max(l.`run`), min(l.`created_at`),
    CASE WHEN n.`status` IN ('new', 'running', 'error') THEN NULL ELSE min(l.`created_at`) END
  FROM `recovery_locks` l LEFT JOIN `notifications` n ON n.`notification_uuid` = l.`notification_uuid`
  GROUP BY l.`notification_uuid`, l.`instance_uuid`;
