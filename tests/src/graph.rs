//! A small graph of users, notes and posts, some soft-deleted, for the tests of scopes,
//! relations and loaders.

use sea_orm::{ActiveModelTrait, LoaderTrait, ModelTrait, NotSet, Set};
use soft_delete_core::prelude::*;

use crate::context::TestContext;
use crate::entities::{note, post, user};

/// Users `ann` (active), `bob` (deleted), `cid` (active); notes and posts of theirs, some
/// deleted. Returns the users and a note id by name.
pub struct Graph {
    pub ann: user::Model,
    pub bob: user::Model,
    pub cid: user::Model,
    /// ann's active note, ann's deleted note, bob's active note, cid's deleted note.
    pub notes: [i64; 4],
    /// ann's active post, ann's deleted post.
    pub posts: [i64; 2],
}

pub async fn graph(ctx: &TestContext) -> Graph {
    ctx.create_table::<user::Entity>().await;
    ctx.create_table::<note::Entity>().await;
    ctx.create_table::<post::Entity>().await;
    let mut users = Vec::new();
    for name in ["ann", "bob", "cid"] {
        users.push(
            user::ActiveModel {
                id: NotSet,
                name: Set(name.to_owned()),
                email: Set(format!("{name}@example.com")),
                ..Default::default()
            }
            .insert(&ctx.db)
            .await
            .unwrap(),
        );
    }
    let mut notes = [0; 4];
    for (slot, (user, body)) in notes.iter_mut().zip([
        (users[0].id, "ann live"),
        (users[0].id, "ann gone"),
        (users[1].id, "bob live"),
        (users[2].id, "cid gone"),
    ]) {
        *slot = note::ActiveModel {
            id: NotSet,
            user_id: Set(user),
            body: Set(body.to_owned()),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap()
        .id;
    }
    let mut posts = [0; 2];
    for (slot, title) in posts.iter_mut().zip(["ann live", "ann gone"]) {
        *slot = post::ActiveModel {
            id: NotSet,
            user_id: Set(users[0].id),
            title: Set(title.to_owned()),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap()
        .id;
    }
    note::Entity::soft_delete_by_id(&ctx.db, notes[1])
        .await
        .unwrap();
    note::Entity::soft_delete_by_id(&ctx.db, notes[3])
        .await
        .unwrap();
    post::Entity::soft_delete_by_id(&ctx.db, posts[1])
        .await
        .unwrap();
    user::Entity::soft_delete_by_id(&ctx.db, users[1].id)
        .await
        .unwrap();
    let [ann, bob, cid]: [user::Model; 3] = users.try_into().expect("three users");
    Graph {
        ann,
        bob,
        cid,
        notes,
        posts,
    }
}

pub fn ids<M: ModelTrait>(models: &[M], id: impl Fn(&M) -> i64) -> Vec<i64> {
    let mut ids: Vec<i64> = models.iter().map(id).collect();
    ids.sort_unstable();
    ids
}

pub fn note_ids(notes: &[note::Model]) -> Vec<i64> {
    ids(notes, |n| n.id)
}

/// The note ids `load_many` gives each of `users` for `query`.
pub async fn loaded<S>(users: &[user::Model], query: S, ctx: &TestContext) -> Vec<Vec<i64>>
where
    S: sea_orm::EntityOrSelect<note::Entity>,
{
    users
        .load_many(query, &ctx.db)
        .await
        .unwrap()
        .iter()
        .map(|notes| note_ids(notes))
        .collect()
}

/// Each user the query selects, by name, with its note ids.
pub async fn with_notes(
    query: Scoped<sea_orm::SelectTwoMany<user::Entity, note::Entity>>,
    ctx: &TestContext,
) -> Vec<(String, Vec<i64>)> {
    query
        .all(&ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n)| (u.name, note_ids(&n)))
        .collect()
}
