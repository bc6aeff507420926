CREATE INDEX `hosts_live_segment_state` ON `hosts` (`failover_segment_id`,`on_maintenance`,`reserved`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `notifications_live_type_status` ON `notifications` (`type`,`status`) WHERE deleted = 0;--> statement-breakpoint
CREATE INDEX `recovery_phases_nova_errors` ON `recovery_phases` (`nova_errors`) WHERE nova_errors > 0;--> statement-breakpoint
CREATE INDEX `recovery_runs_nova_errors` ON `recovery_runs` (`nova_errors`) WHERE nova_errors > 0;--> statement-breakpoint
CREATE INDEX `recovery_storm_state` ON `recovery_storm` (`state`,`notification_uuid`);--> statement-breakpoint
CREATE INDEX `vmoves_live_evacuation_status` ON `vmoves` (`status`) WHERE deleted = 0 AND type = 'evacuation';