CREATE TABLE author (
  id integer PRIMARY KEY AUTOINCREMENT,
  name text NOT NULL,
  deleted_at timestamp_with_timezone_text NULL,
  deleted_by text NULL,
  deletion_reason text NULL
);
CREATE TABLE article (
  id integer PRIMARY KEY AUTOINCREMENT,
  author_id integer NOT NULL REFERENCES author (id),
  title text NOT NULL,
  is_deleted boolean NOT NULL DEFAULT 0,
  deleted_at datetime_text NULL,
  deleted_by text NULL,
  deletion_reason text NULL
);
CREATE TABLE tag (
  id integer PRIMARY KEY AUTOINCREMENT,
  name text NOT NULL,
  deleted_epoch integer NOT NULL DEFAULT 0,
  deleted_by text NULL,
  deletion_reason text NULL
);
CREATE TABLE article_tag (
  article_id integer NOT NULL REFERENCES article (id),
  tag_id integer NOT NULL REFERENCES tag (id),
  deleted_at timestamp NULL,
  deleted_by text NULL,
  deletion_reason text NULL,
  PRIMARY KEY (article_id, tag_id)
);
