DROP TABLE IF EXISTS conversation_labels;
DROP TABLE IF EXISTS labels;
