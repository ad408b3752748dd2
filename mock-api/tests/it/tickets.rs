//! Tickets over HTTP: T1 creation (numbering under concurrency, references, labels, tags),
//! the two lists with every filter, `sort` and cursor walks, PATCH with per-field activity,
//! delete with its 409 and cascade, T2 transitions against Default and strict workflows, and
//! the T3 batches with their per-item results.

use crate::support::{Api, Org, org};
use alloy_mock_api::Store;
use alloy_mock_api::model::*;
use alloy_mock_api::values::Day;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

fn id_of(v: &Value) -> Uuid {
    Uuid::parse_str(v["id"].as_str().expect("id")).expect("uuid")
}

/// Inserts a sprint of `project` in `status` straight into the store; returns its id.
pub fn insert_sprint(api: &Api, project: &Value, status: SprintStatus) -> String {
    let project_id = id_of(project);
    api.mock.with_store(|s: &mut Store| {
        let p = s.projects.get(&project_id).cloned().expect("project");
        let now = s.now();
        let id = s.new_id();
        let day = Day::parse("2026-04-01").expect("day");
        s.sprints.insert(
            id,
            Sprint {
                id,
                org_id: p.org_id,
                project_id,
                name: format!("Sprint {status}"),
                goal: None,
                start_date: day,
                end_date: day.plus(13),
                status,
                started_at: None,
                completed_at: None,
                created_by: p.created_by,
                created_at: now,
                updated_at: now,
                frozen_burndown: None,
            },
        );
        id.to_string()
    })
}

/// Inserts a time entry on `ticket` in `status`.
fn insert_time_entry(api: &Api, ticket: &Value, status: TimeEntryStatus) {
    let ticket_id = id_of(ticket);
    api.mock.with_store(|s: &mut Store| {
        let t = s.tickets.get(&ticket_id).cloned().expect("ticket");
        let now = s.now();
        let id = s.new_id();
        s.time_entries.insert(
            id,
            TimeEntry {
                id,
                org_id: t.org_id,
                project_id: t.project_id,
                ticket_id,
                ticket_key: t.key.clone(),
                user_id: t.reporter_id,
                date: now.day(),
                minutes: 30,
                description: None,
                status,
                submitted_at: None,
                approved_at: None,
                rejected_at: None,
                approved_by: None,
                rejected_by: None,
                rejection_reason: None,
                created_at: now,
                updated_at: now,
            },
        );
    });
}

/// Gives `project` a strict workflow Open → Doing → Closed (plus Open → Dropped).
fn make_strict(api: &Api, project: &Value) {
    let project_id = id_of(project);
    api.mock.with_store(|s: &mut Store| {
        let org_id = s.projects.get(&project_id).map(|p| p.org_id).expect("project");
        let now = s.now();
        let id = s.new_id();
        let st = |n: &str, c| WorkflowStatus {
            name: n.into(),
            category: c,
        };
        let tr = |a: &str, b: &str| Transition {
            from: a.into(),
            to: b.into(),
        };
        s.workflows.insert(
            id,
            Workflow {
                id,
                org_id,
                name: "Delivery".into(),
                description: None,
                is_default: false,
                statuses: vec![
                    st("Open", StatusCategory::Unstarted),
                    st("Doing", StatusCategory::Started),
                    st("Closed", StatusCategory::Completed),
                    st("Dropped", StatusCategory::Cancelled),
                ],
                initial_status: "Open".into(),
                transitions: vec![tr("Open", "Doing"), tr("Doing", "Closed"), tr("Open", "Dropped")],
                enforcement: WorkflowEnforcement::Strict,
                project_count: 0,
                created_by: None,
                created_at: now,
                updated_at: now,
            },
        );
        if let Some(p) = s.projects.get_mut(&project_id) {
            p.workflow_id = id;
        }
    });
}

async fn create(o: &Org, key: &str, project: &str, body: Value) -> crate::support::Resp {
    o.post(key, &format!("/api/v1/projects/{project}/tickets"), body).await
}

async fn activity(o: &Org, ticket: &str) -> Vec<Value> {
    let r = o.get(&o.owner, &format!("/api/v1/tickets/{ticket}/activity")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().expect("items").clone()
}

fn keys_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["key"].as_str().expect("key").to_string())
        .collect()
}

#[tokio::test]
async fn create_ticket_numbers_from_one_with_defaults_and_a_created_activity() {
    let o = org().await;
    let p = o.project(&o.owner, "WEB").await;
    let r = create(&o, &o.member, "web", json!({"title": "  First  "})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let t = &r.body;
    assert_eq!(
        (t["ticket_number"].as_i64(), t["key"].as_str()),
        (Some(1), Some("WEB-1"))
    );
    assert_eq!(t["title"], "First");
    assert_eq!(t["status"], "Backlog");
    assert_eq!(
        (t["priority"].as_str(), t["ticket_type"].as_str()),
        (Some("Medium"), Some("Task"))
    );
    assert_eq!(t["reporter_id"], json!(o.user(OrgRole::Member)));
    assert_eq!(t["project_id"], p["id"]);
    assert_eq!((t["labels"].clone(), t["tags"].clone()), (json!([]), json!({})));
    for f in [
        "description",
        "assignee_id",
        "sprint_id",
        "story_points",
        "due_date",
        "resolved_at",
    ] {
        assert_eq!(t[f], Value::Null, "{f}");
    }
    assert_eq!(t["updated_at"], t["created_at"]);
    let loc = r.location();
    assert_eq!(loc, format!("/api/v1/tickets/{}", t["id"].as_str().expect("id")));
    assert_eq!(o.get(&o.viewer, "/api/v1/tickets/web-1").await.body["id"], t["id"]);
    let second = create(&o, &o.member, "WEB", json!({"title": "Second"})).await;
    assert_eq!(second.body["key"], "WEB-2");
    assert_eq!(o.get(&o.owner, "/api/v1/projects/WEB").await.body["ticket_counter"], 2);
    let a = activity(&o, "WEB-1").await;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["action"], "Created");
    assert_eq!(a[0]["field"], Value::Null);
    assert_eq!(a[0]["old_value"], Value::Null);
    assert_eq!(
        a[0]["new_value"],
        json!({"key": "WEB-1", "title": "First", "status": "Backlog"})
    );
    assert_eq!(a[0]["actor_id"], json!(o.user(OrgRole::Member)));
}

#[tokio::test]
async fn create_ticket_lists_every_failing_field() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let body = json!({
        "title": " ", "priority": "Urgent", "ticket_type": "Epic", "story_points": 101, "due_date": "tomorrow",
        "assignee_id": "nobody", "label_ids": ["x"], "status": "Done", "key": "WEB-9", "colour": "red",
        "tags": {"Bad Key": "x", "env": 3, "long": "v".repeat(257)}, "description": "d".repeat(50_001),
    });
    let r = create(&o, &o.member, "WEB", body).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"), "{}", r.text);
    assert_eq!(
        *r.fields(),
        json!({
            "title": "required", "priority": "invalid_enum", "ticket_type": "invalid_enum", "story_points": "out_of_range",
            "due_date": "invalid_format", "assignee_id": "invalid_format", "label_ids": "invalid_format",
            "status": "immutable", "key": "immutable", "colour": "unknown_field", "tags.Bad Key": "invalid_format",
            "tags.env": "invalid_format", "tags.long": "too_long", "description": "too_long",
        })
    );
    let r = create(&o, &o.member, "WEB", json!({})).await;
    assert_eq!(*r.fields(), json!({"title": "required"}));
    let many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let r = create(
        &o,
        &o.member,
        "WEB",
        json!({"title": "t", "tags": many, "label_ids": [Uuid::nil(), Uuid::nil()]}),
    )
    .await;
    assert_eq!(
        *r.fields(),
        json!({"tags": "out_of_range", "label_ids": "duplicate_item"})
    );
    // Nothing was created, so the counter is untouched.
    assert_eq!(o.get(&o.owner, "/api/v1/projects/WEB").await.body["ticket_counter"], 0);
}

#[tokio::test]
async fn create_ticket_refuses_unusable_references_with_422() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    let api_project = o.project(&o.owner, "API").await;
    let other_label = o
        .post(&o.owner, "/api/v1/projects/API/labels", json!({"name": "bug"}))
        .await
        .body;
    let foreign_sprint = insert_sprint(&o.api, &api_project, SprintStatus::Planned);
    let done_sprint = insert_sprint(&o.api, &web, SprintStatus::Completed);
    let stranger = Uuid::new_v4().to_string();
    let cases = [
        (
            json!({"title": "t", "reporter_id": stranger}),
            "invalid_reference",
            "reporter_id",
        ),
        (
            json!({"title": "t", "assignee_id": stranger}),
            "invalid_reference",
            "assignee_id",
        ),
        (
            json!({"title": "t", "sprint_id": foreign_sprint}),
            "invalid_reference",
            "sprint_id",
        ),
        (
            json!({"title": "t", "label_ids": [other_label["id"]]}),
            "invalid_reference",
            "label_ids",
        ),
        (
            json!({"title": "t", "sprint_id": done_sprint}),
            "invalid_state",
            "sprint_id",
        ),
    ];
    for (body, reason, field) in cases {
        let r = create(&o, &o.member, "WEB", body.clone()).await;
        assert_eq!((r.status, r.reason()), (422, reason), "{body}: {}", r.text);
        assert_eq!(r.body["error"]["details"]["field"], field);
    }
    let planned = insert_sprint(&o.api, &web, SprintStatus::Active);
    let admin = o.user(OrgRole::Admin);
    let r = create(
        &o,
        &o.member,
        "WEB",
        json!({"title": "ok", "sprint_id": planned, "assignee_id": admin, "reporter_id": admin}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.body["sprint_id"].as_str(), r.body["assignee_id"].as_str()),
        (Some(planned.as_str()), Some(admin.as_str()))
    );
    assert_eq!(r.body["key"], "WEB-1");
}

#[tokio::test]
async fn create_ticket_with_labels_and_tags_logs_them_in_contract_order() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let zeta = o
        .post(&o.owner, "/api/v1/projects/WEB/labels", json!({"name": "zeta"}))
        .await
        .body;
    let alpha = o
        .post(
            &o.owner,
            "/api/v1/projects/WEB/labels",
            json!({"name": "Alpha", "color": "#ff0000"}),
        )
        .await
        .body;
    let body = json!({"title": "t", "label_ids": [zeta["id"], alpha["id"]], "tags": {"version": "1.2", "env": "prod"}});
    let r = create(&o, &o.member, "WEB", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["labels"],
        json!([
            {"id": alpha["id"], "name": "Alpha", "color": "#FF0000"},
            {"id": zeta["id"], "name": "zeta", "color": "#6B7280"},
        ])
    );
    assert_eq!(r.body["tags"], json!({"env": "prod", "version": "1.2"}));
    let mut a = activity(&o, "WEB-1").await;
    a.reverse();
    let shape: Vec<(String, Value, Value)> = a
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["field"].clone(),
                e["new_value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (
                "Created".into(),
                Value::Null,
                json!({"key": "WEB-1", "title": "t", "status": "Backlog"})
            ),
            ("LabelAdded".into(), json!("labels"), zeta["id"].clone()),
            ("LabelAdded".into(), json!("labels"), alpha["id"].clone()),
            ("TagSet".into(), json!("env"), json!("prod")),
            ("TagSet".into(), json!("version"), json!("1.2")),
        ]
    );
    assert!(a.iter().all(|e| e["created_at"] == a[0]["created_at"]));
}

#[tokio::test]
async fn reporters_create_only_inside_their_projects_and_viewers_never() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let r = create(&o, &o.reporter, "WEB", json!({"title": "t"})).await;
    assert_eq!((r.status, r.reason()), (403, "not_project_member"));
    assert!(r.body["error"]["details"]["project_id"].is_string());
    let r = create(&o, &o.viewer, "WEB", json!({"title": "t"})).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    assert_eq!(r.body["error"]["details"]["required_role"], "Reporter");
    o.create(
        &o.owner,
        "/api/v1/projects/WEB/members",
        json!({"user_id": o.user(OrgRole::Reporter)}),
    )
    .await;
    let r = create(&o, &o.reporter, "WEB", json!({"title": "t"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Permission checks come before field rules: a Viewer with a bad body still gets 403.
    let r = create(&o, &o.viewer, "WEB", json!({"title": ""})).await;
    assert_eq!(r.status, 403);
    // Reporters cannot edit, transition or delete tickets.
    let r = o
        .patch(&o.reporter, "/api/v1/tickets/WEB-1", json!({"title": "x"}))
        .await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let req = json!({"status": "Todo"});
    let r = o.post(&o.reporter, "/api/v1/tickets/WEB-1/transition", req).await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let r = o.delete(&o.member, "/api/v1/tickets/WEB-1").await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
}

#[tokio::test]
async fn another_orgs_projects_and_tickets_are_404_not_403() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let t = o.ticket(&o.owner, "WEB", "secret").await;
    let id = t["id"].as_str().expect("id");
    let r = create(&o, &o.other, "WEB", json!({"title": "t"})).await;
    r.not_found("project");
    for path in [format!("/api/v1/tickets/{id}"), "/api/v1/tickets/WEB-1".to_string()] {
        let r = o.get(&o.other, &path).await;
        assert_eq!(
            (r.status, r.body["error"]["details"]["resource"].as_str()),
            (404, Some("ticket")),
            "{path}"
        );
        assert_eq!(o.patch(&o.other, &path, json!({"title": "x"})).await.status, 404);
        assert_eq!(o.delete(&o.other, &path).await.status, 404);
        assert_eq!(
            o.post(&o.other, &format!("{path}/transition"), json!({"status": "Done"}))
                .await
                .status,
            404
        );
    }
    let r = o.get(&o.other, "/api/v1/tickets").await;
    assert_eq!(r.body["items"], json!([]));
    let r = o.get(&o.other, &format!("/api/v1/tickets?org_id={}", o.org_id)).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    o.refuses_gets(
        &o.owner,
        &[
            ("/api/v1/tickets/WEB-01", 400, "invalid_id"),
            ("/api/v1/tickets/WEB", 400, "invalid_id"),
        ],
    )
    .await;
    let r = o.get(&o.owner, "/api/v1/tickets/WEB-2").await;
    assert_eq!(
        (r.status, r.body["error"]["details"]["id"].as_str()),
        (404, Some("WEB-2"))
    );
    let r = o
        .get(&o.owner, "/api/v1/tickets/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn forty_concurrent_creates_get_numbers_one_to_forty_with_none_lost() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let creates = (0..40).map(|i| {
        o.post(
            &o.member,
            "/api/v1/projects/WEB/tickets",
            json!({"title": format!("t{i}")}),
        )
    });
    let results = futures::future::join_all(creates).await;
    let mut numbers: Vec<i64> = results
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.text);
            r.body["ticket_number"].as_i64().expect("number")
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=40).collect::<Vec<i64>>());
    let all = o.list_all(&o.viewer, "/api/v1/projects/WEB/tickets", 200).await;
    assert_eq!(all.len(), 40);
    assert_eq!(o.get(&o.owner, "/api/v1/projects/WEB").await.body["ticket_counter"], 40);
}

#[tokio::test]
async fn walking_org_ticket_pages_with_small_limits_sees_every_ticket_exactly_once() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "API").await;
    let mut expected = BTreeSet::new();
    for i in 0..11 {
        let project = if i % 3 == 0 { "API" } else { "WEB" };
        let t = o.ticket(&o.member, project, &format!("t{i}")).await;
        expected.insert(t["key"].as_str().expect("key").to_string());
        if i % 4 == 0 {
            let req = json!({"priority": "High"});
            let r = o
                .patch(
                    &o.owner,
                    &format!("/api/v1/tickets/{}", t["key"].as_str().expect("key")),
                    req,
                )
                .await;
            assert_eq!(r.status, 200);
        }
    }
    for sort in ["created_at", "-created_at", "updated_at", "-updated_at", "-priority"] {
        for limit in [1, 2, 3, 5] {
            let items = o
                .list_all(&o.viewer, &format!("/api/v1/tickets?sort={sort}"), limit)
                .await;
            let keys: Vec<String> = items
                .iter()
                .map(|t| t["key"].as_str().expect("key").to_string())
                .collect();
            let set: BTreeSet<String> = keys.iter().cloned().collect();
            assert_eq!(keys.len(), 11, "{sort} limit {limit}: {keys:?}");
            assert_eq!(set, expected, "{sort} limit {limit}");
        }
    }
    let first = o.get(&o.viewer, "/api/v1/tickets?limit=11").await;
    assert_eq!(
        (first.body["has_more"].clone(), first.body["next_cursor"].clone()),
        (json!(false), Value::Null)
    );
    let r = o.get(&o.viewer, "/api/v1/tickets?project_id=api").await;
    assert_eq!(keys_of(&r.body), vec!["API-1", "API-2", "API-3", "API-4"]);
    let r = o.get(&o.viewer, "/api/v1/tickets?project_id=NOPE").await;
    assert_eq!((r.status, r.body["items"].clone()), (200, json!([])));
    o.refuses_gets(
        &o.viewer,
        &[
            ("/api/v1/tickets?project_id=W", 400, "invalid_id"),
            ("/api/v1/tickets?cursor=zzz", 400, "invalid_cursor"),
        ],
    )
    .await;
}

#[tokio::test]
async fn ticket_filters_combine_and_bad_values_are_400() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    let sprint = insert_sprint(&o.api, &web, SprintStatus::Planned);
    let label = o
        .post(&o.owner, "/api/v1/projects/WEB/labels", json!({"name": "bug"}))
        .await
        .body;
    let member = o.user(OrgRole::Member);
    let make = [
        json!({"title": "Login page is BROKEN", "priority": "Critical", "ticket_type": "Bug", "assignee_id": member, "tags": {"env": "prod"}}),
        json!({"title": "Add 100% coverage", "priority": "Low", "sprint_id": sprint, "label_ids": [label["id"]], "tags": {"env": "staging"}}),
        json!({"title": "Docs", "description": "explain the login_flow", "priority": "High", "ticket_type": "Feature"}),
        json!({"title": "Ünïcode title", "priority": "Critical", "tags": {"team": "core"}}),
    ];
    for body in make {
        let r = create(&o, &o.member, "WEB", body).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    assert_eq!(
        o.post(
            &o.owner,
            "/api/v1/tickets/WEB-3/transition",
            json!({"status": "InProgress"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        o.post(&o.owner, "/api/v1/tickets/WEB-4/transition", json!({"status": "Done"}))
            .await
            .status,
        200
    );
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("q=login", vec!["WEB-1", "WEB-3"]),
        ("q=LOGIN_", vec!["WEB-3"]),
        ("q=100%25", vec!["WEB-2"]),
        ("q=%C3%BC", vec![]),
        ("q=%C3%9C", vec!["WEB-4"]),
        ("status=InProgress,Done", vec!["WEB-3", "WEB-4"]),
        ("status=Nope", vec![]),
        ("status_category=Unstarted", vec!["WEB-1", "WEB-2"]),
        ("status_category=Started,Completed", vec!["WEB-3", "WEB-4"]),
        ("priority=Critical,Low", vec!["WEB-1", "WEB-2", "WEB-4"]),
        ("ticket_type=Bug,Feature", vec!["WEB-1", "WEB-3"]),
        ("assignee_id=none", vec!["WEB-2", "WEB-3", "WEB-4"]),
        ("sprint_id=none", vec!["WEB-1", "WEB-3", "WEB-4"]),
        ("label_id=LABEL", vec!["WEB-2"]),
        ("tag_key=env", vec!["WEB-1", "WEB-2"]),
        ("tag_key=env&tag_value=prod", vec!["WEB-1"]),
        ("tag_key=env&tag_value=dev", vec![]),
        ("sort=-priority", vec!["WEB-1", "WEB-4", "WEB-3", "WEB-2"]),
        ("sort=-created_at&priority=Critical", vec!["WEB-4", "WEB-1"]),
        ("q=login&priority=High", vec!["WEB-3"]),
        (
            "created_after=2026-04-01T12:00:00Z&created_before=2026-04-01T12:00:00.000Z",
            vec!["WEB-1", "WEB-2", "WEB-3", "WEB-4"],
        ),
        ("updated_after=2026-04-01T12:00:00.001Z", vec![]),
    ];
    let sprint_case = format!("sprint_id={sprint}");
    let assignee_case = format!("assignee_id={member}&reporter_id={member}");
    let label_id = label["id"].as_str().expect("label id");
    for (query, want) in cases
        .iter()
        .map(|(q, w)| (q.replace("LABEL", label_id), w.clone()))
        .chain([(sprint_case, vec!["WEB-2"]), (assignee_case, vec!["WEB-1"])])
    {
        for base in ["/api/v1/projects/WEB/tickets", "/api/v1/tickets"] {
            let r = o.get(&o.viewer, &format!("{base}?{query}")).await;
            assert_eq!(r.status, 200, "{base}?{query}: {}", r.text);
            assert_eq!(keys_of(&r.body), want, "{base}?{query}");
        }
    }
    let bad = [
        ("tag_value=prod", "invalid_query"),
        ("sort=priority", "invalid_query"),
        ("priority=Urgent", "invalid_query"),
        ("status_category=Open", "invalid_query"),
        ("ticket_type=Story", "invalid_query"),
        ("assignee_id=someone", "invalid_id"),
        ("sprint_id=12", "invalid_id"),
        ("created_after=yesterday", "invalid_query"),
        ("limit=0", "invalid_query"),
    ];
    for (query, reason) in bad {
        let r = o.get(&o.viewer, &format!("/api/v1/tickets?{query}")).await;
        assert_eq!((r.status, r.reason()), (400, reason), "{query}");
    }
    // Query syntax is checked before the project lookup (§1.7: 400 before 404).
    let r = o.get(&o.viewer, "/api/v1/projects/NOPE/tickets?sort=bad").await;
    assert_eq!((r.status, r.reason()), (400, "invalid_query"));
    let r = o.get(&o.viewer, "/api/v1/projects/NOPE/tickets?sort=-priority").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn patch_writes_one_activity_per_changed_field_in_field_order() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    let sprint = insert_sprint(&o.api, &web, SprintStatus::Planned);
    o.ticket(&o.member, "WEB", "Old").await;
    o.mock.advance(std::time::Duration::from_secs(60));
    let admin = o.user(OrgRole::Admin);
    let body = json!({
        "due_date": "2026-05-01", "story_points": 5, "sprint_id": sprint, "assignee_id": admin,
        "ticket_type": "Bug", "priority": "High", "description": "why", "title": "New",
    });
    let r = o.patch(&o.member, "/api/v1/tickets/WEB-1", body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["title"], "New");
    assert_eq!(r.body["due_date"], "2026-05-01");
    assert_eq!(r.body["updated_at"], "2026-04-01T12:01:00.000Z");
    assert_eq!(r.body["created_at"], "2026-04-01T12:00:00.000Z");
    let mut a = activity(&o, "WEB-1").await;
    a.reverse();
    let shape: Vec<(String, String, Value, Value)> = a[1..]
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_string(),
                e["field"].as_str().expect("field").to_string(),
                e["old_value"].clone(),
                e["new_value"].clone(),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        shape,
        vec![
            (s("Updated"), s("title"), json!("Old"), json!("New")),
            (s("Updated"), s("description"), Value::Null, json!("why")),
            (s("Updated"), s("priority"), json!("Medium"), json!("High")),
            (s("Updated"), s("ticket_type"), json!("Task"), json!("Bug")),
            (s("Assigned"), s("assignee_id"), Value::Null, json!(admin)),
            (s("SprintChanged"), s("sprint_id"), Value::Null, json!(sprint)),
            (s("Updated"), s("story_points"), Value::Null, json!(5)),
            (s("Updated"), s("due_date"), Value::Null, json!("2026-05-01")),
        ]
    );
    // The same values again, and `{}`, change nothing: no activity, `updated_at` untouched.
    o.mock.advance(std::time::Duration::from_secs(60));
    let again = o.patch(&o.member, "/api/v1/tickets/WEB-1", body).await;
    assert_eq!(again.body, r.body);
    assert_eq!(
        o.patch(&o.member, "/api/v1/tickets/WEB-1", json!({})).await.body,
        r.body
    );
    assert_eq!(activity(&o, "WEB-1").await.len(), 9);
    // Clearing nullable fields logs the old values.
    let req = json!({"assignee_id": null, "sprint_id": null});
    let r = o.patch(&o.member, "/api/v1/tickets/WEB-1", req).await;
    assert_eq!(
        (r.body["assignee_id"].clone(), r.body["sprint_id"].clone()),
        (Value::Null, Value::Null)
    );
    let latest = activity(&o, "WEB-1").await;
    assert_eq!(latest[0]["action"], "SprintChanged");
    assert_eq!(latest[0]["old_value"], json!(sprint));
    assert_eq!(latest[1]["action"], "Assigned");
    assert_eq!(latest[1]["new_value"], Value::Null);
}

#[tokio::test]
async fn patch_rejects_immutable_null_and_unknown_fields_and_bad_references() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    o.ticket(&o.member, "WEB", "t").await;
    let body = json!({"status": "Done", "reporter_id": o.user(OrgRole::Owner), "title": null, "priority": null,
        "labels": [], "tags": {}, "key": "X-1", "story_points": -1, "whatever": 1});
    let r = o.patch(&o.member, "/api/v1/tickets/WEB-1", body).await;
    assert_eq!((r.status, r.code()), (400, "validation_error"));
    assert_eq!(
        *r.fields(),
        json!({"status": "immutable", "reporter_id": "immutable", "title": "not_nullable", "priority": "not_nullable",
            "labels": "immutable", "tags": "immutable", "key": "immutable", "story_points": "out_of_range", "whatever": "unknown_field"})
    );
    let done = insert_sprint(&o.api, &web, SprintStatus::Completed);
    let r = o
        .patch(&o.member, "/api/v1/tickets/WEB-1", json!({"sprint_id": done}))
        .await;
    assert_eq!((r.status, r.reason()), (422, "invalid_state"));
    assert_eq!(r.body["error"]["details"]["state"], "Completed");
    let req = json!({"assignee_id": Uuid::new_v4()});
    let r = o.patch(&o.member, "/api/v1/tickets/WEB-1", req).await;
    assert_eq!((r.status, r.reason()), (422, "invalid_reference"));
    let r = o
        .patch(&o.viewer, "/api/v1/tickets/WEB-1", json!({"status": "Done"}))
        .await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    assert_eq!(activity(&o, "WEB-1").await.len(), 1);
}

#[tokio::test]
async fn delete_ticket_is_409_with_locked_time_and_otherwise_cascades_without_reusing_numbers() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let t1 = o.ticket(&o.member, "WEB", "keep").await;
    let t2 = o.ticket(&o.member, "WEB", "drop").await;
    insert_time_entry(&o.api, &t1, TimeEntryStatus::Submitted);
    insert_time_entry(&o.api, &t1, TimeEntryStatus::Approved);
    insert_time_entry(&o.api, &t1, TimeEntryStatus::Draft);
    let r = o.delete(&o.admin, "/api/v1/tickets/WEB-1").await;
    assert_eq!((r.status, r.reason()), (409, "has_time_entries"));
    assert_eq!(r.body["error"]["details"]["count"], 2);
    insert_time_entry(&o.api, &t2, TimeEntryStatus::Draft);
    insert_time_entry(&o.api, &t2, TimeEntryStatus::Rejected);
    assert_eq!(
        o.post(&o.member, "/api/v1/tickets/WEB-2/comments", json!({"body": "hi"}))
            .await
            .status,
        201
    );
    let r = o.delete(&o.admin, "/api/v1/tickets/WEB-2").await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_eq!(o.status(&o.admin, "/api/v1/tickets/WEB-2").await, 404);
    let t2_id = id_of(&t2);
    let left = o.mock.with_store(|s: &mut Store| {
        (
            s.comments.values().filter(|c| c.ticket_id == t2_id).count(),
            s.activity.values().filter(|a| a.ticket_id == t2_id).count(),
            s.time_entries.values().filter(|e| e.ticket_id == t2_id).count(),
            s.time_entries.len(),
        )
    });
    assert_eq!(left, (0, 0, 0, 3));
    assert_eq!(o.ticket(&o.member, "WEB", "next").await["key"], "WEB-3");
}

#[tokio::test]
async fn transitions_follow_the_default_workflow_and_track_resolved_at() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.ticket(&o.member, "WEB", "t").await;
    let go = |status: &str| {
        let path = "/api/v1/tickets/WEB-1/transition";
        o.post(&o.member, path, json!({"status": status}))
    };
    let r = go("Shipped").await;
    assert_eq!((r.status, r.reason()), (422, "unknown_status"));
    assert_eq!(r.body["error"]["details"]["status"], "Shipped");
    assert_eq!(
        r.body["error"]["details"]["statuses"],
        json!(["Backlog", "Todo", "InProgress", "InReview", "Done", "Cancelled"])
    );
    let r = go("Backlog").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        activity(&o, "WEB-1").await.len(),
        1,
        "a no-op transition writes nothing"
    );
    let r = go("Done").await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("Done")));
    let resolved = r.body["resolved_at"].clone();
    assert_eq!(resolved, json!("2026-04-01T12:00:00.000Z"));
    o.mock.advance(std::time::Duration::from_secs(5));
    let r = go("Cancelled").await;
    assert_eq!(r.body["resolved_at"], resolved, "kept between closed categories");
    let r = go("InProgress").await;
    assert_eq!(r.body["resolved_at"], Value::Null, "cleared on reopening");
    let a = activity(&o, "WEB-1").await;
    assert_eq!(a[0]["action"], "StatusChanged");
    assert_eq!(
        (a[0]["old_value"].as_str(), a[0]["new_value"].as_str()),
        (Some("Cancelled"), Some("InProgress"))
    );
    assert_eq!(a[0]["field"], "status");
    let req = json!({"status": 3, "x": 1});
    let r = o.post(&o.member, "/api/v1/tickets/WEB-1/transition", req).await;
    assert_eq!(*r.fields(), json!({"status": "invalid_format", "x": "unknown_field"}));
    let r = o.post(&o.member, "/api/v1/tickets/WEB-1/transition", json!({})).await;
    assert_eq!(*r.fields(), json!({"status": "required"}));
}

#[tokio::test]
async fn strict_workflows_allow_only_listed_transitions() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    make_strict(&o.api, &web);
    let t = o.ticket(&o.member, "WEB", "t").await;
    assert_eq!(t["status"], "Open");
    let req = json!({"status": "Closed"});
    let r = o.post(&o.member, "/api/v1/tickets/WEB-1/transition", req).await;
    assert_eq!((r.status, r.reason()), (422, "transition_not_allowed"));
    let d = &r.body["error"]["details"];
    assert_eq!((d["from"].as_str(), d["to"].as_str()), (Some("Open"), Some("Closed")));
    assert_eq!(d["allowed"], json!(["Doing", "Dropped"]));
    let req = json!({"status": "Backlog"});
    let r = o.post(&o.member, "/api/v1/tickets/WEB-1/transition", req).await;
    assert_eq!((r.status, r.reason()), (422, "unknown_status"));
    for step in ["Doing", "Closed"] {
        let r = o
            .post(&o.member, "/api/v1/tickets/WEB-1/transition", json!({"status": step}))
            .await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some(step)), "{}", r.text);
    }
    let r = o
        .post(&o.member, "/api/v1/tickets/WEB-1/transition", json!({"status": "Open"}))
        .await;
    assert_eq!(r.body["error"]["details"]["allowed"], json!([]));
}

#[tokio::test]
async fn batch_transition_reports_each_failed_item_and_still_answers_200() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    let strict = o.project(&o.owner, "OPS").await;
    make_strict(&o.api, &strict);
    o.ticket(&o.member, "WEB", "a").await;
    let b = o.ticket(&o.member, "WEB", "b").await;
    o.ticket(&o.member, "OPS", "c").await;
    o.project(&o.other, "WEB").await;
    let foreign = o.ticket(&o.other, "WEB", "x").await;
    let ids = json!(["web-1", b["id"], "WEB-1", "OPS-1", "WEB-99", foreign["id"]]);
    let req = json!({"ticket_ids": ids, "status": "Done"});
    let r = o.post(&o.member, "/api/v1/tickets/batch-transition", req).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["succeeded"].as_i64(), r.body["failed"].as_i64()),
        (Some(3), Some(3))
    );
    let res = r.body["results"].as_array().expect("results");
    let echo: Vec<Value> = res.iter().map(|x| x["ticket_id"].clone()).collect();
    assert_eq!(json!(echo), ids);
    assert_eq!(res[0]["ok"], true);
    assert_eq!(res[0]["ticket"]["status"], "Done");
    assert_eq!(res[0]["error"], Value::Null);
    assert_eq!(res[1]["ticket"]["key"], "WEB-2");
    assert_eq!(
        (res[2]["ok"].as_bool(), res[2]["ticket"]["status"].as_str()),
        (Some(true), Some("Done")),
        "no-op item is ok"
    );
    assert_eq!(res[3]["ok"], false);
    assert_eq!(res[3]["ticket"], Value::Null);
    assert_eq!(res[3]["error"]["code"], "unprocessable");
    assert_eq!(res[3]["error"]["details"]["reason"], "unknown_status");
    assert_eq!(
        res[4]["error"],
        json!({"code": "not_found", "message": "ticket WEB-99 not found", "details": {"resource": "ticket", "id": "WEB-99"}})
    );
    assert_eq!(res[5]["error"]["code"], "not_found");
    assert_eq!(
        activity(&o, "WEB-1").await.len(),
        2,
        "the repeated reference wrote nothing"
    );
    let req = json!({"ticket_ids": ["OPS-1"], "status": "Closed"});
    let r = o.post(&o.member, "/api/v1/tickets/batch-transition", req).await;
    assert_eq!(
        r.body["results"][0]["error"]["details"]["reason"],
        "transition_not_allowed"
    );
    assert_eq!(r.body["failed"], 1);
}

#[tokio::test]
async fn batch_requests_fail_whole_on_shape_and_role_errors() {
    let o = org().await;
    o.project(&o.owner, "WEB").await;
    o.ticket(&o.member, "WEB", "a").await;
    let path = "/api/v1/tickets/batch-transition";
    let many: Vec<String> = (1..=51).map(|i| format!("WEB-{i}")).collect();
    let cases = [
        (
            json!({"ticket_ids": [], "status": "Done"}),
            json!({"ticket_ids": "out_of_range"}),
        ),
        (
            json!({"ticket_ids": many, "status": "Done"}),
            json!({"ticket_ids": "out_of_range"}),
        ),
        (
            json!({"ticket_ids": ["WEB-1", "WEB-1"], "status": "Done"}),
            json!({"ticket_ids": "duplicate_item"}),
        ),
        (
            json!({"ticket_ids": "WEB-1", "status": ["Done"]}),
            json!({"ticket_ids": "invalid_format", "status": "invalid_format"}),
        ),
        (
            json!({"ticket_ids": ["not a key"]}),
            json!({"ticket_ids": "invalid_format", "status": "required"}),
        ),
    ];
    for (body, want) in cases {
        let r = o.post(&o.member, path, body.clone()).await;
        assert_eq!((r.status, r.code()), (400, "validation_error"), "{body}");
        assert_eq!(*r.fields(), want, "{body}");
    }
    let r = o
        .post(&o.reporter, path, json!({"ticket_ids": ["WEB-1"], "status": "Done"}))
        .await;
    assert_eq!((r.status, r.reason()), (403, "insufficient_role"));
    let req = json!({"ticket_ids": [], "changes": {}});
    let r = o.post(&o.viewer, "/api/v1/tickets/batch-update", req).await;
    assert_eq!(
        (r.status, r.reason()),
        (403, "insufficient_role"),
        "role is checked before fields"
    );
    let upd = "/api/v1/tickets/batch-update";
    let r = o
        .post(&o.member, upd, json!({"ticket_ids": ["WEB-1"], "changes": {}}))
        .await;
    assert_eq!(*r.fields(), json!({"changes": "required"}));
    let req = json!({"ticket_ids": ["WEB-1"], "changes": {"status": "Done", "title": "", "x": 1}});
    let r = o.post(&o.member, upd, req).await;
    assert_eq!(
        *r.fields(),
        json!({"changes.status": "immutable", "changes.title": "required", "changes.x": "unknown_field"})
    );
    let r = o.post(&o.member, upd, json!({"ticket_ids": ["WEB-1"]})).await;
    assert_eq!(*r.fields(), json!({"changes": "required"}));
    assert_eq!(activity(&o, "WEB-1").await.len(), 1);
}

#[tokio::test]
async fn batch_update_applies_changes_per_item_with_per_item_reference_errors() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "API").await;
    let sprint = insert_sprint(&o.api, &web, SprintStatus::Active);
    o.ticket(&o.member, "WEB", "a").await;
    o.ticket(&o.member, "WEB", "b").await;
    o.ticket(&o.member, "API", "c").await;
    let body = json!({"ticket_ids": ["WEB-1", "API-1", "WEB-2", "API-7"], "changes": {"sprint_id": sprint, "priority": "Critical"}});
    let r = o.post(&o.member, "/api/v1/tickets/batch-update", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["succeeded"].as_i64(), r.body["failed"].as_i64()),
        (Some(2), Some(2))
    );
    let res = &r.body["results"];
    assert_eq!(
        (
            res[0]["ticket"]["sprint_id"].as_str(),
            res[0]["ticket"]["priority"].as_str()
        ),
        (Some(sprint.as_str()), Some("Critical"))
    );
    assert_eq!(res[1]["error"]["details"]["reason"], "invalid_reference");
    assert_eq!(res[1]["error"]["details"]["field"], "sprint_id");
    assert_eq!(res[2]["ok"], true);
    assert_eq!(res[3]["error"]["code"], "not_found");
    // The API ticket was left untouched: a failed item changes nothing.
    assert_eq!(
        o.get(&o.owner, "/api/v1/tickets/API-1").await.body["priority"],
        "Medium"
    );
    let a = activity(&o, "WEB-2").await;
    let actions: Vec<&str> = a.iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(actions, vec!["SprintChanged", "Updated", "Created"]);
    let req = json!({"ticket_ids": ["WEB-1"], "changes": {"title": "x", "assignee_id": null}});
    let r = o.post(&o.member, "/api/v1/tickets/batch-update", req).await;
    assert_eq!(r.body["results"][0]["ticket"]["title"], "x");
}

#[tokio::test]
async fn project_restricted_keys_see_only_their_projects() {
    let o = org().await;
    let web = o.project(&o.owner, "WEB").await;
    o.project(&o.owner, "API").await;
    o.ticket(&o.member, "WEB", "w").await;
    o.ticket(&o.member, "API", "a").await;
    let raw = "alloy_test_restricted0000000000000000000000";
    o.restricted_key(OrgRole::Member, "restricted", raw, web["id"].as_str().expect("id"));
    let r = o.get(raw, "/api/v1/tickets").await;
    assert_eq!(keys_of(&r.body), vec!["WEB-1"]);
    o.refuses_gets(
        raw,
        &[
            ("/api/v1/tickets/API-1", 403, "project_not_allowed"),
            ("/api/v1/projects/API/tickets", 403, "project_not_allowed"),
        ],
    )
    .await;
    let req = json!({"ticket_ids": ["WEB-1", "API-1"], "status": "Todo"});
    let r = o.post(raw, "/api/v1/tickets/batch-transition", req).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["results"][1]["error"]["details"]["reason"],
        "project_not_allowed"
    );
    assert_eq!(r.body["succeeded"], 1);
}
