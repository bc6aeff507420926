ALTER TABLE `recovery_phases` ADD `nova_errors` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `recovery_runs` ADD `nova_errors` integer DEFAULT 0 NOT NULL;