//! `groups` and `presets`.

use serde::Serialize;

use super::args::{GroupsCommand, PresetsCommand};
use super::out;
use crate::config::Preset;
use crate::engine::{Command, Group, GroupStore, Update};
use crate::exit::{Failure, JOURNAL, NOT_ALL_ACTIVE as EXIT_FAILED, USAGE as EXIT_USAGE};
use crate::options::GlobalArgs;
use crate::setup::{Context, Setup};
use crate::text::sanitize;

/// A group with its id and name sanitized for the terminal.
fn clean(g: &Group) -> Group {
    Group { id: sanitize(&g.id), name: sanitize(&g.name) }
}

pub(super) async fn groups(global: &GlobalArgs, cmd: GroupsCommand) -> Result<u8, Failure> {
    match cmd {
        GroupsCommand::List { json } => {
            let ctx = Context::load(global)?;
            let store = GroupStore::open(&ctx.paths.groups()).map_err(|e| Failure::new(JOURNAL, e.to_string()))?;
            let groups: Vec<Group> = store.groups().iter().map(clean).collect();
            if json {
                out::json(&groups)?;
            } else {
                for g in &groups {
                    out::line(&format!("{}\t{}", g.id, g.name))?;
                }
            }
            Ok(0)
        }
        GroupsCommand::Create { name, description, json } => {
            // Bad input is a usage error, decided before anything starts.
            if let Err(e) = crate::engine::validate_group(&name, description.as_deref()) {
                return Err(Failure::new(EXIT_USAGE, format!("cannot create group `{}`: {e}", sanitize(&name))));
            }
            let setup = Setup::new(global).await?;
            let (engine, mut updates, task) = setup.start_engine()?;
            engine.send(Command::CreateGroup { name, description });
            let mut result = Ok(EXIT_FAILED);
            while let Some(u) = updates.recv().await {
                match u {
                    Update::GroupCreated(g) => {
                        let g = clean(&g);
                        result = if json { out::json(&g) } else { out::line(&g.id) }.map(|()| 0);
                        engine.send(Command::Shutdown);
                    }
                    Update::GroupFailed { name, error } => {
                        eprintln!("cannot create group `{}`: {}", sanitize(&name), sanitize(&error));
                        engine.send(Command::Shutdown);
                    }
                    Update::Stopped { .. } => break,
                    _ => {}
                }
            }
            let _ = task.await;
            result
        }
    }
}

fn show(p: &Preset) -> Result<(), Failure> {
    let mut text = format!(
        "name          = {}\ngroup_id      = {}\nasset_type    = {}\nname_template = {}\n",
        sanitize(&p.name),
        sanitize(&p.group_id),
        p.asset_type,
        sanitize(&p.name_template)
    );
    if let Some(d) = &p.description {
        text.push_str(&format!("description   = {}\n", sanitize(d)));
    }
    text.push_str(&format!("default       = {}\n", p.default));
    out::print(&text)
}

/// A preset as `presets list --json` shows it.
#[derive(Serialize)]
struct ListedPreset<'a> {
    #[serde(flatten)]
    preset: &'a Preset,
    /// True for the one selected at start.
    selected: bool,
}

pub(super) fn presets(global: &GlobalArgs, cmd: PresetsCommand) -> Result<u8, Failure> {
    let ctx = Context::load(global)?;
    for w in &ctx.loaded.warnings {
        eprintln!("warning: {w}");
    }
    let cfg = &ctx.loaded.config;
    let file = ctx.paths.config_file.display();
    match cmd {
        PresetsCommand::List { json } => {
            let default = cfg.default_preset().map(|p| p.name.clone());
            if json {
                let list: Vec<ListedPreset> = cfg
                    .presets
                    .iter()
                    .map(|p| ListedPreset { preset: p, selected: Some(&p.name) == default.as_ref() })
                    .collect();
                out::json(&list)?;
                return Ok(0);
            }
            if cfg.presets.is_empty() {
                eprintln!("no presets in {file}");
            }
            for p in &cfg.presets {
                let mark = if Some(&p.name) == default.as_ref() { "*" } else { " " };
                out::line(&format!(
                    "{mark} {}\t{}\t{}\t{}",
                    sanitize(&p.name),
                    sanitize(&p.group_id),
                    p.asset_type,
                    sanitize(&p.name_template)
                ))?;
            }
            Ok(0)
        }
        PresetsCommand::Show { name, json } => match cfg.preset(&name) {
            Some(p) if json => out::json(p).map(|()| 0),
            Some(p) => show(p).map(|()| 0),
            None => {
                eprintln!("no preset named `{}` in {file}", sanitize(&name));
                Ok(EXIT_USAGE)
            }
        },
    }
}
