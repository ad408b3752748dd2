//! Ticket comments (contract §4.5 #69–#73). Reporters may comment, and edit or delete their
//! own comments, only in projects they are members of; editing is for the author alone,
//! deleting for the author or any Admin. A new comment writes a `Commented` activity entry
//! (and so moves the ticket's `updated_at`); edits and deletes write none.

use super::Route;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::model::{ActivityAction, Comment, OrgRole, Problem};
use crate::page::{asc_i, asc_s};
use crate::request::{Ctx, Mode, Reply, string};
use crate::store::Store;
use serde_json::{Value, json};

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new("POST", "/api/v1/tickets/{ticket}/comments", create_comment),
        Route::new("GET", "/api/v1/tickets/{ticket}/comments", list_comments),
        Route::new("GET", "/api/v1/comments/{comment_id}", get_comment),
        Route::new("PATCH", "/api/v1/comments/{comment_id}", update_comment),
        Route::new("DELETE", "/api/v1/comments/{comment_id}", delete_comment),
    ]
}

/// Longest comment body, in characters.
pub const MAX_BODY: usize = 10_000;

/// Fields a comment body may never send.
const SERVER_SET: &[&str] = &[
    "id",
    "org_id",
    "ticket_id",
    "author_id",
    "edited_at",
    "created_at",
    "updated_at",
];

/// A comment as the API returns it.
pub fn comment_json(c: &Comment) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

/// `{comment_id}` in a path: a comment of the caller's org, with its ticket's project.
fn path_comment(ctx: &Ctx) -> ApiResult<(Comment, uuid::Uuid)> {
    let c: Comment = ctx.path_record()?;
    let project = ctx
        .store
        .tickets
        .get(&c.ticket_id)
        .map(|t| t.project_id)
        .ok_or_else(|| ApiError::not_found("comment", ctx.param("comment_id")))?;
    Ok((c, project))
}

/// Write check shared by create and edit: scope, allow-list, Reporter role, and for a
/// Reporter membership of the project.
fn check_write(caller: &Caller, store: &Store, project: uuid::Uuid) -> ApiResult<()> {
    caller.check_project_write(project, OrgRole::Reporter)?;
    caller.require_project_member(store, project)
}

fn not_author(what: &str) -> ApiError {
    ApiError::forbidden("not_author", format!("only the comment's author may {what} it"))
}

fn create_comment(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let t = ctx.path_ticket("ticket")?;
    check_write(&caller, ctx.store, t.project_id)?;
    let mut b = ctx.body()?;
    let body = b.get("body", Mode::Required, &string(1, MAX_BODY));
    b.immutable(SERVER_SET);
    b.finish()?;
    let body = body.ok_or_else(|| ApiError::field("body", Problem::Required))?;
    let (now, id) = ctx.store.stamp();
    let c = Comment {
        id,
        org_id: t.org_id,
        ticket_id: t.id,
        author_id: caller.user_id,
        body,
        edited_at: None,
        created_at: now,
        updated_at: now,
    };
    ctx.store.comments.insert(id, c.clone());
    ctx.store.log_activity(
        t.id,
        caller.user_id,
        ActivityAction::Commented,
        None,
        None,
        Some(json!(id)),
        now,
    );
    Ok(Reply::created(comment_json(&c), Some(format!("/api/v1/comments/{id}"))))
}

fn list_comments(ctx: &mut Ctx) -> ApiResult<Reply> {
    let t = ctx.path_ticket("ticket")?;
    ctx.caller()?.check_project_read(t.project_id)?;
    let items: Vec<&Comment> = ctx.store.comments.values().filter(|c| c.ticket_id == t.id).collect();
    let page = ctx.page(
        items,
        |c| vec![asc_i(c.created_at.0), asc_s(c.id.to_string())],
        |c| comment_json(c),
    )?;
    Ok(Reply::ok(page))
}

fn get_comment(ctx: &mut Ctx) -> ApiResult<Reply> {
    let (c, project) = path_comment(ctx)?;
    ctx.caller()?.check_project_read(project)?;
    Ok(Reply::ok(comment_json(&c)))
}

fn update_comment(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let (c, project) = path_comment(ctx)?;
    check_write(&caller, ctx.store, project)?;
    if c.author_id != caller.user_id {
        return Err(not_author("edit"));
    }
    let mut b = ctx.body()?;
    let body = b.get("body", Mode::Required, &string(1, MAX_BODY));
    b.immutable(SERVER_SET);
    b.finish()?;
    let body = body.ok_or_else(|| ApiError::field("body", Problem::Required))?;
    if body == c.body {
        return Ok(Reply::ok(comment_json(&c)));
    }
    let now = ctx.store.now();
    let next = Comment {
        body,
        edited_at: Some(now),
        updated_at: now,
        ..c
    };
    ctx.store.comments.insert(next.id, next.clone());
    Ok(Reply::ok(comment_json(&next)))
}

fn delete_comment(ctx: &mut Ctx) -> ApiResult<Reply> {
    let caller = ctx.caller()?;
    let (c, project) = path_comment(ctx)?;
    caller.check_project_write(project, OrgRole::Reporter)?;
    if !caller.role.at_least(OrgRole::Admin) {
        caller.require_project_member(ctx.store, project)?;
        if c.author_id != caller.user_id {
            return Err(not_author("delete"));
        }
    }
    ctx.store.comments.remove(&c.id);
    Ok(Reply::no_content())
}
