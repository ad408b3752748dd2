//! The MCP surface: version negotiation, `serverInfo`, capabilities, down-levelling of tool
//! fields per version, the tool list and its schemas, invalid arguments and unknown tools.

use crate::support::{Launch, names_in, spawn_stack, spawn_stack_with};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn initialize_echoes_every_supported_version_and_answers_unknown_ones_with_the_newest() {
    let mut s = spawn_stack_with(Launch::default().initialize(None)).await;
    for (asked, answered) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let r = s.initialize(asked).await;
        assert_eq!(r["result"]["protocolVersion"], json!(answered), "{asked}: {r}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn initialize_announces_the_server_its_capabilities_and_instructions() {
    let mut s = spawn_stack_with(Launch::default().initialize(None)).await;
    let r = s.initialize("2024-11-05").await;
    let result = &r["result"];
    assert_eq!(
        result["serverInfo"],
        json!({"name": "alloy-mcp", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_eq!(result["capabilities"]["tools"], json!({"listChanged": false}));
    assert_eq!(result["capabilities"]["prompts"], json!({"listChanged": false}));
    assert_eq!(
        result["capabilities"]["resources"],
        json!({"subscribe": false, "listChanged": false})
    );
    let instructions = result["instructions"].as_str().expect("instructions");
    assert!(
        instructions.contains("WEB-42") && instructions.contains("cents"),
        "{instructions}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2024_11_05_client_gets_no_fields_its_version_does_not_define() {
    let mut s = spawn_stack_with(Launch::default().initialize(Some("2024-11-05"))).await;
    let tools = s.list_tools().await;
    assert!(!tools.is_empty());
    for t in &tools {
        let keys: Vec<&String> = t.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["name", "description", "inputSchema"], "{t}");
    }
    let r = s.call("whoami", json!({})).await;
    assert!(r["result"].get("structuredContent").is_none(), "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2025_06_18_client_gets_all_four_annotations_and_a_title_on_every_tool() {
    let mut s = spawn_stack().await;
    for t in s.list_tools().await {
        let a = &t["annotations"];
        for hint in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
            assert!(a[hint].is_boolean(), "{} lacks {hint}: {t}", t["name"]);
        }
        assert_eq!(a["openWorldHint"], json!(false));
        assert!(t["title"].as_str().is_some_and(|title| !title.is_empty()), "{t}");
        assert!(a.get("title").is_none() && t.get("outputSchema").is_none(), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2025_03_26_client_gets_annotations_but_no_titles() {
    let mut s = spawn_stack_with(Launch::default().initialize(Some("2025-03-26"))).await;
    for t in s.list_tools().await {
        assert!(t["annotations"].is_object() && t.get("title").is_none(), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_list_starts_with_connectivity_and_holds_the_ticket_tools() {
    let mut s = spawn_stack().await;
    let names: Vec<String> = s
        .list_tools()
        .await
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(&names[..2], ["ping", "whoami"]);
    for name in [
        "create_ticket",
        "get_ticket",
        "search_tickets",
        "update_ticket",
        "transition_ticket",
        "batch_transition",
        "batch_update_tickets",
        "assign_ticket",
        "get_my_tickets",
        "delete_ticket",
    ] {
        assert!(names.contains(&name.to_string()), "{name} missing from {names:?}");
    }
}

/// The house rules every tool keeps: a `verb_noun` name, a description, an object schema
/// that refuses unknown arguments, a description on every field, and a read-only hint that
/// matches the verb.
#[tokio::test(flavor = "multi_thread")]
async fn every_tool_is_described_strictly_and_its_read_only_hint_matches_its_verb() {
    let mut s = spawn_stack().await;
    for t in s.list_tools().await {
        let name = t["name"].as_str().expect("name");
        let verb_noun = name.contains('_') || ["ping", "whoami"].contains(&name);
        assert!(
            verb_noun && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{name}"
        );
        assert!(
            t["description"].as_str().is_some_and(|d| d.len() > 40),
            "{name} description"
        );
        let schema = &t["inputSchema"];
        assert_eq!(schema["type"], json!("object"), "{name}");
        let props = schema["properties"].as_object().cloned().unwrap_or_default();
        if !props.is_empty() {
            assert_eq!(schema["additionalProperties"], json!(false), "{name}: {schema}");
        }
        for (field, p) in props {
            assert!(
                p["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name}.{field} has no description"
            );
        }
        let reads = ["get_", "list_", "search_", "export_", "ping", "whoami"]
            .iter()
            .any(|v| name.starts_with(v));
        assert_eq!(t["annotations"]["readOnlyHint"], json!(reads), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ticket_schemas_state_formats_enums_and_required_fields() {
    let mut s = spawn_stack().await;
    let tools = s.list_tools().await;
    let schema = |n: &str| -> Value {
        tools
            .iter()
            .find(|t| t["name"] == json!(n))
            .map(|t| t["inputSchema"].clone())
            .unwrap_or_else(|| panic!("{n}"))
    };
    let create = schema("create_ticket");
    assert_eq!(create["required"], json!(["project_id", "title"]));
    assert_eq!(create["properties"]["due_date"]["format"], json!("date"));
    let priority = create["properties"]["priority"].to_string();
    assert!(priority.contains("\"Critical\""), "{priority}");
    let assign = schema("assign_ticket");
    assert_eq!(assign["required"], json!(["ticket_id", "assignee_id"]));
    let batch = schema("batch_transition");
    assert_eq!(batch["properties"]["ticket_ids"]["maxItems"], json!(50));
    assert_eq!(batch["properties"]["ticket_ids"]["uniqueItems"], json!(true));
    let search = schema("search_tickets");
    assert!(search.get("required").is_none_or(|r| r == &json!([])), "{search}");
    assert_eq!(
        search["properties"]["reporter_id"]["type"],
        json!("string"),
        "me, an email or a uuid"
    );
    assert_eq!(search["properties"]["limit"]["maximum"], json!(100));
    assert_eq!(search["properties"]["limit"]["default"], json!(25));
    assert_eq!(search["properties"]["detail"]["enum"], json!(["compact", "full"]));
    assert_eq!(
        schema("get_ticket")["properties"]["ticket_id"],
        json!({"description": "Key (`WEB-42`) or uuid.", "type": "string"})
    );
}

/// The published schema is short; the server still checks the full one: the uuid-or-key
/// pattern, the uuid-me-or-email one, formats and `null` on optional arguments as "not given".
#[tokio::test(flavor = "multi_thread")]
async fn the_server_checks_more_than_the_published_schema_says() {
    let mut s = spawn_stack().await;
    let tools = s.list_tools().await;
    let text = serde_json::to_string(&tools).expect("json");
    assert!(!text.contains("$schema") && !text.contains("x-published") && !text.contains("uint32"));
    assert!(!text.contains("[0-9A-Fa-f]{8}"), "no uuid regex is published");
    for (tool, args, field) in [
        ("get_ticket", json!({"ticket_id": "web 1"}), "ticket_id"),
        ("search_tickets", json!({"assignee_id": "someone"}), "assignee_id"),
        ("search_tickets", json!({"created_after": "yesterday"}), "created_after"),
        (
            "transition_ticket",
            json!({"ticket_id": "WEB-1", "status": "in progress"}),
            "status",
        ),
        ("get_sprint", json!({"sprint_id": ""}), "sprint_id"),
    ] {
        let e = s.call_invalid(tool, args.clone()).await;
        assert_eq!(e["data"]["field"], json!(field), "{tool} {args}: {e}");
    }
    let page = s.call_ok("search_tickets", json!({"query": null, "limit": null})).await;
    assert_eq!(page["items"], json!([]), "null still means not given");
}

/// A key acts in one org, so the 14 tools that took an `org_id` whose only valid value was the
/// caller's org no longer take one: it is refused as an unknown argument, before any API call.
#[tokio::test(flavor = "multi_thread")]
async fn no_tool_takes_an_org_id_any_more() {
    let mut s = spawn_stack().await;
    let org = s.api.org_id.clone();
    let before = s.api.mock.journal().len();
    for tool in [
        "create_project",
        "list_projects",
        "create_team",
        "list_teams",
        "create_workflow",
        "list_workflows",
        "list_members",
        "create_invite",
        "list_invites",
        "get_time_report",
        "get_capitalization_report",
        "get_capitalization_export",
        "export_data",
        "import_data",
    ] {
        let e = s.call_invalid(tool, json!({"org_id": org})).await;
        let fields: Vec<&str> = e["data"]["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["field"].as_str())
            .collect();
        assert!(fields.contains(&"org_id"), "{tool}: {e}");
    }
    for t in s.list_tools().await {
        assert!(t["inputSchema"]["properties"].get("org_id").is_none(), "{}", t["name"]);
    }
    assert_eq!(s.api.mock.journal().len(), before, "refused calls reach no API");
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_invalid_arguments_are_invalid_params_naming_the_field() {
    let mut s = spawn_stack().await;
    let cases = [
        ("ping", json!({"verbose": true}), "verbose"),
        ("get_ticket", json!({}), "ticket_id"),
        ("get_ticket", json!({"ticket_id": "not a ticket"}), "ticket_id"),
        ("get_ticket", json!({"ticket_id": "WEB-1", "extra": 1}), "extra"),
        ("search_tickets", json!({"reporter_id": "xyz"}), "reporter_id"),
        ("search_tickets", json!({"priority": ["Urgent"]}), "priority[0]"),
        ("search_tickets", json!({"limit": 500}), "limit"),
        (
            "create_ticket",
            json!({"project_id": "WEB", "title": "x", "due_date": "2026-13-45"}),
            "due_date",
        ),
        ("create_ticket", json!({"project_id": "WEB", "title": ""}), "title"),
        (
            "batch_transition",
            json!({"ticket_ids": ["WEB-1", "WEB-1"], "status": "Done"}),
            "ticket_ids",
        ),
    ];
    for (tool, args, field) in cases {
        let e = s.call_invalid(tool, args.clone()).await;
        assert_eq!(e["data"]["field"], json!(field), "{tool} {args}: {e}");
        let message = e["message"].as_str().expect("message");
        assert!(message.contains(field), "{tool}: {message}");
    }
    assert!(
        s.api.requests("/api/v1/tickets").is_empty(),
        "refused calls never reach the API"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_tool_is_invalid_params() {
    let mut s = spawn_stack().await;
    let e = s.call_invalid("no_such_tool", json!({})).await;
    assert!(e["message"].as_str().expect("message").contains("no_such_tool"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_answer_in_one_page_and_refuse_cursors() {
    let mut s = spawn_stack().await;
    for method in [
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
    ] {
        let ok = s.request(method, None).await;
        assert!(ok["result"].get("nextCursor").is_none(), "{method}: {ok}");
        let bad = s.request(method, Some(json!({"cursor": "abc"}))).await;
        assert_eq!(bad["error"]["code"], json!(-32602), "{method}: {bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prompts_are_listed_and_rendered() {
    let mut s = spawn_stack().await;
    let r = s.request("prompts/list", None).await;
    let prompts = r["result"]["prompts"].as_array().expect("prompts");
    assert!(prompts.iter().any(|p| p["name"] == json!("standup")), "{r}");
    let r = s.request("prompts/get", Some(json!({"name": "standup"}))).await;
    assert!(r["result"]["messages"][0]["content"]["text"].is_string(), "{r}");
    let r = s.request("prompts/get", Some(json!({"name": "nope"}))).await;
    assert_eq!(r["error"]["code"], json!(-32602), "{r}");
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_read_through_the_api_and_unknown_uris_are_not_found() {
    let mut s = spawn_stack().await;
    let t = s.api.ticket("Read me").await;
    let r = s.request("resources/list", None).await;
    let uris = names_in(&r["result"]["resources"], "uri");
    assert_eq!(
        uris,
        [
            "alloy://me",
            "alloy://projects",
            "alloy://my/tickets",
            "alloy://projects/WEB"
        ]
    );
    let r = s.request("resources/templates/list", None).await;
    assert_eq!(
        r["result"]["resourceTemplates"].as_array().map(Vec::len),
        Some(6),
        "{r}"
    );

    let r = s.request("resources/read", Some(json!({"uri": "alloy://me"}))).await;
    let c = &r["result"]["contents"][0];
    assert_eq!(c["mimeType"], json!("application/json"), "{r}");
    let me: Value = serde_json::from_str(c["text"].as_str().expect("text")).expect("json");
    assert_eq!(me["email"], json!("owner@acme.test"));

    let r = s
        .request(
            "resources/read",
            Some(json!({"uri": format!("alloy://tickets/{}", t["key"].as_str().expect("key"))})),
        )
        .await;
    let body: Value = serde_json::from_str(r["result"]["contents"][0]["text"].as_str().expect("text")).expect("json");
    assert_eq!(body["ticket"]["title"], json!("Read me"), "{r}");

    for uri in ["alloy://nowhere", "alloy://tickets/WEB-0", "alloy://tickets/WEB-999"] {
        let r = s.request("resources/read", Some(json!({"uri": uri}))).await;
        assert_eq!(r["error"]["code"], json!(-32002), "{uri}: {r}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_fixed_resource_and_every_template_kind_reads_as_json_on_the_seed() {
    let mut s = crate::support::spawn_seeded_stack(Launch::default()).await;
    let sprints = s
        .call_ok("list_sprints", json!({"project_id": "WEB", "status": ["Active"]}))
        .await;
    let sprint = sprints["items"][0]["id"]
        .as_str()
        .expect("the seed has an active WEB sprint")
        .to_string();
    let read = |uri: String| (uri.clone(), json!({"uri": uri}));
    let cases = [
        read("alloy://me".into()),
        read("alloy://projects".into()),
        read("alloy://my/tickets".into()),
        read("alloy://projects/WEB".into()),
        read("alloy://projects/WEB/tickets".into()),
        read("alloy://projects/WEB/sprints".into()),
        read("alloy://tickets/WEB-1".into()),
        read(format!("alloy://sprints/{sprint}")),
        read(format!("alloy://sprints/{sprint}/burndown")),
    ];
    let mut bodies = Vec::new();
    for (uri, params) in cases {
        let r = s.request("resources/read", Some(params)).await;
        let c = &r["result"]["contents"][0];
        assert_eq!(
            (c["uri"].as_str(), c["mimeType"].as_str()),
            (Some(uri.as_str()), Some("application/json")),
            "{r}"
        );
        let body: Value = serde_json::from_str(c["text"].as_str().expect("text")).expect("JSON contents");
        bodies.push(body);
    }
    assert_eq!(bodies[0]["email"], "olivia@acme.test");
    let keys = names_in(&bodies[1]["items"], "key");
    assert_eq!(keys, ["API", "OPS", "WEB"], "oldest first: {}", bodies[1]);
    assert!(
        bodies[2]["items"].is_array() && bodies[2]["has_more"].is_boolean(),
        "{}",
        bodies[2]
    );
    assert_eq!(
        (
            bodies[3]["project"]["key"].as_str(),
            bodies[3]["summary"]["project"]["key"].as_str()
        ),
        (Some("WEB"), Some("WEB"))
    );
    assert!(
        bodies[4]["items"].as_array().is_some_and(|t| !t.is_empty()),
        "open WEB tickets: {}",
        bodies[4]
    );
    assert_eq!(
        bodies[5]["items"].as_array().map(Vec::len),
        Some(3),
        "WEB has three sprints: {}",
        bodies[5]
    );
    assert_eq!(bodies[6]["ticket"]["key"], "WEB-1");
    assert!(bodies[6]["comments"].is_array());
    assert_eq!(
        (
            bodies[7]["sprint"]["id"].as_str(),
            bodies[7]["board"]["sprint_id"].as_str()
        ),
        (Some(sprint.as_str()), Some(sprint.as_str()))
    );
    assert_eq!(bodies[8]["sprint_id"].as_str(), Some(sprint.as_str()));
    assert!(
        bodies[8]["days"].as_array().is_some_and(|d| !d.is_empty()),
        "{}",
        bodies[8]
    );
}
