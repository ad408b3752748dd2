//! Results that fit a context window. The list tools whose items are large (tickets, time
//! entries) return a compact page by default and the API's page unchanged with
//! `detail: "full"`. A compact page keeps the envelope (`items`, `next_cursor`, `has_more`) and
//! names its fields once in `columns`; each item is a row of values in that order. A ticket
//! row holds what a list is read for (key, title, status, priority, type, points, assignee
//! with name, sprint, last update): on the seed a page of 25 is about a quarter of the full
//! page's bytes. Single-item tools (`get_ticket`, ...) always return the full item.

use crate::surface::tools::names::Resolver;
use crate::surface::tools::shared::Detail;
use serde_json::{Map, Value, json};

/// The fields of a compact ticket, in row order. `assignee_name` is the assignee's display
/// name (looked up once per call), the rest are the Ticket's own fields.
pub const TICKET_COLUMNS: [&str; 11] = [
    "id",
    "key",
    "title",
    "status",
    "priority",
    "ticket_type",
    "story_points",
    "assignee_id",
    "assignee_name",
    "sprint_id",
    "updated_at",
];

/// The fields of a compact time entry, in row order.
pub const TIME_ENTRY_COLUMNS: [&str; 7] = [
    "id",
    "date",
    "ticket_key",
    "user_id",
    "minutes",
    "status",
    "description",
];

/// A page of tickets as asked: the API's page for `detail: "full"`, else compact rows.
pub async fn tickets(names: &mut Resolver<'_>, page: Value, detail: Option<Detail>) -> Value {
    if detail == Some(Detail::Full) {
        return page;
    }
    let assigned = items(&page).iter().any(|t| t["assignee_id"].is_string());
    let people = if assigned { names.member_names().await } else { None };
    rows(page, &TICKET_COLUMNS, |ticket, column| match column {
        "assignee_name" => ticket["assignee_id"]
            .as_str()
            .and_then(|id| people.as_ref()?.get(id))
            .map_or(Value::Null, |name| Value::String(name.clone())),
        field => ticket.get(field).cloned().unwrap_or(Value::Null),
    })
}

/// A page of time entries as asked: the API's page for `detail: "full"`, else compact rows.
pub fn time_entries(page: Value, detail: Option<Detail>) -> Value {
    if detail == Some(Detail::Full) {
        return page;
    }
    rows(page, &TIME_ENTRY_COLUMNS, |entry, field| {
        entry.get(field).cloned().unwrap_or(Value::Null)
    })
}

fn items(page: &Value) -> &[Value] {
    page.get("items").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `{columns, items: [[value per column]], next_cursor, has_more}` from an API page.
fn rows(page: Value, columns: &[&str], cell: impl Fn(&Value, &str) -> Value) -> Value {
    let rows: Vec<Value> = items(&page)
        .iter()
        .map(|item| Value::Array(columns.iter().map(|c| cell(item, c)).collect()))
        .collect();
    let mut out = Map::new();
    out.insert("columns".into(), json!(columns));
    out.insert("items".into(), Value::Array(rows));
    for key in ["next_cursor", "has_more"] {
        out.insert(key.into(), page.get(key).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compact_time_entry_page_keeps_the_envelope_and_names_its_columns_once() {
        let page = json!({"items": [{"id": "e1", "org_id": "o", "date": "2026-04-01", "ticket_key": "WEB-1",
            "user_id": "u", "minutes": 30, "status": "Draft", "description": null, "approved_by": null}],
            "next_cursor": "c", "has_more": true});
        assert_eq!(
            time_entries(page.clone(), None),
            json!({"columns": TIME_ENTRY_COLUMNS, "items": [["e1", "2026-04-01", "WEB-1", "u", 30, "Draft", null]],
                "next_cursor": "c", "has_more": true})
        );
        assert_eq!(time_entries(page.clone(), Some(Detail::Full)), page);
    }
}
