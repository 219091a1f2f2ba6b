DROP TABLE IF EXISTS bulk_action_items;
DROP TABLE IF EXISTS bulk_actions;
