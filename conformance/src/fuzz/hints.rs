//! Values the seeded mock API holds, as [`Hints`] by the argument names Alloy tools use
//! (`ticket_id` → `WEB-1`, `user_id` → a member's uuid, ...), so that generated calls reach real
//! rows (an update that succeeds, a delete that deletes) as well as the 404s random ids get.
//! Only values of the org the seeded keys belong to are taken; a generator uses a hint only
//! where it validates against the field's schema.

use super::schema::Hints;
use alloy_mock_api::model::{ApiKey, Comment, Label, Sprint, Team, TimeEntry};
use alloy_mock_api::store::OrgRecord;
use alloy_mock_api::{MockAlloy, Store};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Values per name at most.
const PER_NAME: usize = 40;

fn add(hints: &mut Hints, names: &[&str], values: impl IntoIterator<Item = String>) {
    let values: Vec<Value> = values
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(PER_NAME)
        .map(|v| json!(v))
        .collect();
    for n in names {
        hints.add(n, values.iter().cloned());
    }
}

/// The uuids of `org`'s records of one kind.
fn ids_of<T: OrgRecord>(s: &Store, org: uuid::Uuid) -> Vec<String> {
    T::table(s)
        .iter()
        .filter(|(_, x)| x.org_id() == org)
        .map(|(id, _)| id.to_string())
        .collect()
}

/// The hints of `mock`'s seeded data.
pub fn from_mock(mock: &MockAlloy) -> Hints {
    let Some(org) = mock.keys().keys.first().map(|k| k.org_id) else {
        return Hints::new();
    };
    mock.with_store(|s| {
        let mut h = Hints::new();
        add(&mut h, &["org_id"], [org.to_string()]);
        let projects: Vec<_> = s.projects.values().filter(|p| p.org_id == org).collect();
        add(
            &mut h,
            &["project_id", "project_ids"],
            projects
                .iter()
                .map(|p| p.key.clone())
                .chain(projects.iter().take(3).map(|p| p.id.to_string())),
        );
        add(
            &mut h,
            &["cost_center_id"],
            projects.iter().filter_map(|p| p.cost_center_id.clone()),
        );
        let tickets: Vec<_> = s.tickets.values().filter(|t| t.org_id == org).collect();
        add(
            &mut h,
            &["ticket_id", "ticket_ids"],
            tickets
                .iter()
                .map(|t| t.key.clone())
                .take(PER_NAME - 4)
                .chain(tickets.iter().take(4).map(|t| t.id.to_string())),
        );
        add(
            &mut h,
            &["key", "tag_key"],
            tickets.iter().flat_map(|t| t.tags.keys().cloned()),
        );
        add(
            &mut h,
            &["value", "tag_value"],
            tickets.iter().flat_map(|t| t.tags.values().cloned()),
        );
        let members: Vec<_> = s.memberships.values().filter(|m| m.org_id == org).collect();
        add(
            &mut h,
            &["user_id", "assignee_id", "reporter_id", "member_ids"],
            members.iter().map(|m| m.user_id.to_string()),
        );
        add(
            &mut h,
            &["email"],
            members
                .iter()
                .filter_map(|m| s.users.get(&m.user_id).map(|u| u.email.clone()))
                .chain(s.invites.values().filter(|i| i.org_id == org).map(|i| i.email.clone())),
        );
        add(&mut h, &["sprint_id"], ids_of::<Sprint>(s, org));
        add(&mut h, &["label_id", "label_ids"], ids_of::<Label>(s, org));
        add(&mut h, &["team_id"], ids_of::<Team>(s, org));
        let workflows: Vec<_> = s.workflows.values().filter(|x| x.org_id == org).collect();
        add(&mut h, &["workflow_id"], workflows.iter().map(|x| x.id.to_string()));
        add(
            &mut h,
            &["status", "to", "from", "initial_status"],
            workflows
                .iter()
                .flat_map(|w| w.statuses.iter().map(|st| st.name.clone())),
        );
        add(&mut h, &["comment_id"], ids_of::<Comment>(s, org));
        add(&mut h, &["time_entry_id"], ids_of::<TimeEntry>(s, org));
        add(&mut h, &["api_key_id"], ids_of::<ApiKey>(s, org));
        h
    })
}
