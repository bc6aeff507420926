DROP INDEX `segments_service_type_idx`;--> statement-breakpoint
CREATE INDEX `failover_segments_live_created_at` ON `failover_segments` (`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `failover_segments_live_updated_at` ON `failover_segments` (`updated_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `failover_segments_live_deleted_at` ON `failover_segments` (`deleted_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `failover_segments_live_service_type` ON `failover_segments` (`service_type`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `failover_segments_live_description` ON `failover_segments` (`description`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `failover_segments_live_recovery_method` ON `failover_segments` (`recovery_method`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `failover_segments_live_enabled` ON `failover_segments` (`enabled`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
DROP INDEX `hosts_type_idx`;--> statement-breakpoint
DROP INDEX `hosts_failover_segment_id_idx`;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_created_at` ON `hosts` (`failover_segment_id`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_updated_at` ON `hosts` (`failover_segment_id`,`updated_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_deleted_at` ON `hosts` (`failover_segment_id`,`deleted_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_uuid` ON `hosts` (`failover_segment_id`,`uuid`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_name` ON `hosts` (`failover_segment_id`,`name`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_reserved` ON `hosts` (`failover_segment_id`,`reserved`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_type` ON `hosts` (`failover_segment_id`,`type`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_control_attributes` ON `hosts` (`failover_segment_id`,`control_attributes`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_live_segment_on_maintenance` ON `hosts` (`failover_segment_id`,`on_maintenance`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `hosts_failover_segment_id_idx` ON `hosts` (`failover_segment_id`);--> statement-breakpoint
CREATE INDEX `notifications_live_duplicates` ON `notifications` (`source_host_uuid`,`type`,`generated_time`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_created_at` ON `notifications` (`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_updated_at` ON `notifications` (`updated_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_deleted_at` ON `notifications` (`deleted_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_generated_time` ON `notifications` (`generated_time`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_source_host_uuid` ON `notifications` (`source_host_uuid`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_type` ON `notifications` (`type`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_payload` ON `notifications` (`payload`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_status` ON `notifications` (`status`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_failover_segment_uuid` ON `notifications` (`failover_segment_uuid`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_message` ON `notifications` (`message`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_created_at` ON `vmoves` (`notification_uuid`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_updated_at` ON `vmoves` (`notification_uuid`,`updated_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_deleted_at` ON `vmoves` (`notification_uuid`,`deleted_at`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_uuid` ON `vmoves` (`notification_uuid`,`uuid`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_instance_uuid` ON `vmoves` (`notification_uuid`,`instance_uuid`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_instance_name` ON `vmoves` (`notification_uuid`,`instance_name`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_source_host` ON `vmoves` (`notification_uuid`,`source_host`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_dest_host` ON `vmoves` (`notification_uuid`,`dest_host`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_start_time` ON `vmoves` (`notification_uuid`,`start_time`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_end_time` ON `vmoves` (`notification_uuid`,`end_time`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_type` ON `vmoves` (`notification_uuid`,`type`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_status` ON `vmoves` (`notification_uuid`,`status`,`created_at`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `vmoves_live_notification_message` ON `vmoves` (`notification_uuid`,`message`,`created_at`) WHERE deleted = 0;