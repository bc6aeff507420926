CREATE TABLE `recovery_progress` (
	`id` integer PRIMARY KEY NOT NULL,
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`flow` integer NOT NULL,
	`task` text NOT NULL,
	`step` text NOT NULL,
	`idx` integer NOT NULL,
	`timestamp` text NOT NULL,
	`progress` text NOT NULL,
	`message` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `recovery_progress_key` ON `recovery_progress` (`notification_uuid`,`run`,`flow`,`task`,`step`,`idx`);--> statement-breakpoint
CREATE TABLE `recovery_runs` (
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`mode` text NOT NULL,
	`created_at` text NOT NULL,
	`ended_at` text,
	`outcome` text,
	PRIMARY KEY(`notification_uuid`, `run`)
);
--> statement-breakpoint
CREATE TABLE `recovery_tasks` (
	`id` integer PRIMARY KEY NOT NULL,
	`notification_uuid` text(36) NOT NULL,
	`run` integer NOT NULL,
	`flow` integer NOT NULL,
	`name` text NOT NULL,
	`state` text NOT NULL,
	`progress` real NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `recovery_tasks_key` ON `recovery_tasks` (`notification_uuid`,`run`,`flow`,`name`);