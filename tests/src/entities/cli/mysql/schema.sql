CREATE TABLE author (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name varchar(255) NOT NULL,
  deleted_at datetime(6) NULL,
  deleted_by varchar(255) NULL,
  deletion_reason text NULL
);
CREATE TABLE article (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  author_id int NOT NULL,
  title varchar(255) NOT NULL,
  is_deleted tinyint(1) NOT NULL DEFAULT 0,
  deleted_at timestamp(6) NULL,
  deleted_by varchar(255) NULL,
  deletion_reason text NULL,
  FOREIGN KEY (author_id) REFERENCES author (id)
);
CREATE TABLE tag (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name varchar(255) NOT NULL,
  deleted_epoch int NOT NULL DEFAULT 0,
  deleted_by varchar(255) NULL,
  deletion_reason text NULL
);
CREATE TABLE article_tag (
  article_id int NOT NULL,
  tag_id int NOT NULL,
  deleted_at datetime(6) NULL,
  deleted_by varchar(255) NULL,
  deletion_reason text NULL,
  PRIMARY KEY (article_id, tag_id),
  FOREIGN KEY (article_id) REFERENCES article (id),
  FOREIGN KEY (tag_id) REFERENCES tag (id)
);
