CREATE TABLE `notification_event_deliveries` (
	`event_id` integer NOT NULL,
	`url` text NOT NULL,
	`notification_uuid` text(36) NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status` integer,
	`last_error` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`event_id`, `url`)
);
--> statement-breakpoint
CREATE INDEX `notification_event_deliveries_queued` ON `notification_event_deliveries` (`notification_uuid`,`url`,`event_id`) WHERE state = 'queued';--> statement-breakpoint
CREATE TABLE `notification_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event_uuid` text(36) NOT NULL,
	`notification_uuid` text(36) NOT NULL,
	`kind` text NOT NULL,
	`notification_type` text,
	`host_uuid` text(36),
	`host_name` text,
	`segment_uuid` text(36),
	`segment_name` text,
	`old_status` text,
	`new_status` text,
	`down` integer,
	`hosts` integer,
	`at` text NOT NULL,
	`queued_at` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `notification_events_uuid` ON `notification_events` (`event_uuid`);--> statement-breakpoint
CREATE INDEX `notification_events_unqueued` ON `notification_events` (`id`) WHERE queued_at IS NULL;--> statement-breakpoint
CREATE INDEX `notification_events_notification` ON `notification_events` (`notification_uuid`,`id`);--> statement-breakpoint
-- Written by hand (drizzle-kit knows no triggers): webhooks' outbox is
-- filled by the statement that makes the change, whoever runs it (API,
-- engine, periodic work, an operator's SQL), so no change can go unsent.
-- Each event: a random version 4 uuid, and the time with milliseconds.
CREATE TRIGGER `notification_events_created` AFTER INSERT ON `notifications`
BEGIN
  INSERT INTO `notification_events` (`event_uuid`, `notification_uuid`, `kind`, `notification_type`, `host_uuid`,
    `host_name`, `segment_uuid`, `segment_name`, `old_status`, `new_status`, `at`)
  SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
      substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
    NEW.`notification_uuid`, 'status', NEW.`type`, NEW.`source_host_uuid`, h.`name`, s.`uuid`, s.`name`, NULL,
    NEW.`status`, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  FROM (SELECT 1) LEFT JOIN `hosts` h ON h.`uuid` = NEW.`source_host_uuid`
    LEFT JOIN `failover_segments` s ON s.`uuid` = h.`failover_segment_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `notification_events_status` AFTER UPDATE OF `status` ON `notifications`
WHEN OLD.`status` IS NOT NEW.`status`
BEGIN
  INSERT INTO `notification_events` (`event_uuid`, `notification_uuid`, `kind`, `notification_type`, `host_uuid`,
    `host_name`, `segment_uuid`, `segment_name`, `old_status`, `new_status`, `at`)
  SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
      substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
    NEW.`notification_uuid`, 'status', NEW.`type`, NEW.`source_host_uuid`, h.`name`, s.`uuid`, s.`name`,
    OLD.`status`, NEW.`status`, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  FROM (SELECT 1) LEFT JOIN `hosts` h ON h.`uuid` = NEW.`source_host_uuid`
    LEFT JOIN `failover_segments` s ON s.`uuid` = h.`failover_segment_id`;
END;
--> statement-breakpoint
-- A hold leaves the notification `new`: its event carries the status it has.
CREATE TRIGGER `notification_events_held` AFTER INSERT ON `recovery_storm`
WHEN NEW.`state` = 'held'
BEGIN
  INSERT INTO `notification_events` (`event_uuid`, `notification_uuid`, `kind`, `notification_type`, `host_uuid`,
    `host_name`, `segment_uuid`, `segment_name`, `old_status`, `new_status`, `down`, `hosts`, `at`)
  SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
      substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
    NEW.`notification_uuid`, 'held', n.`type`, NEW.`host_uuid`, h.`name`, NEW.`segment_uuid`, s.`name`,
    n.`status`, n.`status`, NEW.`down`, NEW.`hosts`, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  FROM (SELECT 1) LEFT JOIN `notifications` n ON n.`notification_uuid` = NEW.`notification_uuid`
    LEFT JOIN `hosts` h ON h.`uuid` = NEW.`host_uuid`
    LEFT JOIN `failover_segments` s ON s.`uuid` = NEW.`segment_uuid`;
END;
