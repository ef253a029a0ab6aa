CREATE TABLE author (
  id serial PRIMARY KEY,
  name text NOT NULL,
  deleted_at timestamptz,
  deleted_by text,
  deletion_reason text
);
CREATE TABLE article (
  id serial PRIMARY KEY,
  author_id integer NOT NULL REFERENCES author (id),
  title text NOT NULL,
  is_deleted boolean NOT NULL DEFAULT false,
  deleted_at timestamp,
  deleted_by text,
  deletion_reason text
);
CREATE TABLE tag (
  id serial PRIMARY KEY,
  name text NOT NULL,
  deleted_epoch integer NOT NULL DEFAULT 0,
  deleted_by text,
  deletion_reason text
);
CREATE TABLE article_tag (
  article_id integer NOT NULL REFERENCES article (id),
  tag_id integer NOT NULL REFERENCES tag (id),
  deleted_at timestamptz,
  deleted_by text,
  deletion_reason text,
  PRIMARY KEY (article_id, tag_id)
);
