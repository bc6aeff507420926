ALTER TABLE `recovery_moves` ADD `priority` integer;--> statement-breakpoint
ALTER TABLE `recovery_moves` ADD `excluded` integer DEFAULT 0 NOT NULL;