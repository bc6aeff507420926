CREATE TABLE `failover_segments` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT 0 NOT NULL,
	`id` integer PRIMARY KEY NOT NULL,
	`uuid` text(36) NOT NULL,
	`name` text(255) NOT NULL,
	`service_type` text(255) NOT NULL,
	`description` text,
	`recovery_method` text NOT NULL,
	`enabled` integer DEFAULT true,
	CONSTRAINT "recovery_methods" CHECK("failover_segments"."recovery_method" IN ('auto', 'reserved_host', 'auto_priority', 'rh_priority'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uniq_segment0name0deleted` ON `failover_segments` (`name`,`deleted`);--> statement-breakpoint
CREATE UNIQUE INDEX `uniq_segments0uuid` ON `failover_segments` (`uuid`);--> statement-breakpoint
CREATE INDEX `segments_service_type_idx` ON `failover_segments` (`service_type`);--> statement-breakpoint
CREATE TABLE `hosts` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT 0 NOT NULL,
	`id` integer PRIMARY KEY NOT NULL,
	`uuid` text(36) NOT NULL,
	`name` text(255) NOT NULL,
	`reserved` integer DEFAULT false,
	`type` text(255) NOT NULL,
	`control_attributes` text NOT NULL,
	`failover_segment_id` text(36) NOT NULL,
	`on_maintenance` integer DEFAULT false,
	FOREIGN KEY (`failover_segment_id`) REFERENCES `failover_segments`(`uuid`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uniq_host0name0deleted` ON `hosts` (`name`,`deleted`);--> statement-breakpoint
CREATE UNIQUE INDEX `uniq_host0uuid` ON `hosts` (`uuid`);--> statement-breakpoint
CREATE INDEX `hosts_type_idx` ON `hosts` (`type`);--> statement-breakpoint
CREATE INDEX `hosts_failover_segment_id_idx` ON `hosts` (`failover_segment_id`,`deleted`);--> statement-breakpoint
CREATE TABLE `notifications` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT 0 NOT NULL,
	`id` integer PRIMARY KEY NOT NULL,
	`notification_uuid` text(36) NOT NULL,
	`generated_time` text NOT NULL,
	`source_host_uuid` text(36) NOT NULL,
	`type` text(36) NOT NULL,
	`payload` text,
	`status` text NOT NULL,
	`failover_segment_uuid` text(36),
	`message` text,
	CONSTRAINT "notification_status" CHECK("notifications"."status" IN ('new', 'running', 'error', 'failed', 'ignored', 'finished'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uniq_notification0uuid` ON `notifications` (`notification_uuid`);--> statement-breakpoint
CREATE INDEX `notifications_source_host_uuid_idx` ON `notifications` (`source_host_uuid`,`status`);--> statement-breakpoint
CREATE TABLE `vmoves` (
	`created_at` text,
	`updated_at` text,
	`deleted_at` text,
	`deleted` integer DEFAULT 0 NOT NULL,
	`id` integer PRIMARY KEY NOT NULL,
	`uuid` text(36) NOT NULL,
	`notification_uuid` text(36) NOT NULL,
	`instance_uuid` text(36) NOT NULL,
	`instance_name` text(255) NOT NULL,
	`source_host` text(255),
	`dest_host` text(255),
	`start_time` text,
	`end_time` text,
	`type` text(36),
	`status` text(255),
	`message` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uniq_vmove0uuid` ON `vmoves` (`uuid`);--> statement-breakpoint
CREATE INDEX `vmoves_notification_uuid_idx` ON `vmoves` (`notification_uuid`);