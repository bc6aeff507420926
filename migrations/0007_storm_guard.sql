CREATE TABLE `recovery_storm` (
	`notification_uuid` text(36) PRIMARY KEY NOT NULL,
	`segment_uuid` text(36) NOT NULL,
	`host_uuid` text(36) NOT NULL,
	`state` text NOT NULL,
	`at` text NOT NULL,
	`down` integer NOT NULL,
	`hosts` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `recovery_storm_segment_at` ON `recovery_storm` (`segment_uuid`,`at`);