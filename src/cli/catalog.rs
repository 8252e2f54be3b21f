//! `groups`, `presets` and `sim`.

use std::net::{IpAddr, SocketAddr};

use super::args::{GlobalArgs, GroupsCommand, PresetsCommand};
use crate::config::{Config, Preset};
use crate::engine::{Command, GroupStore, Update};
use crate::exit::{NOT_ALL_ACTIVE as EXIT_FAILED, USAGE as EXIT_USAGE};
use crate::setup::Setup;
use crate::sim::{Sim, SimConfig};

pub(super) async fn groups(global: &GlobalArgs, cmd: GroupsCommand) -> Result<u8, String> {
    match cmd {
        GroupsCommand::List => {
            let paths = global.paths()?;
            let store = GroupStore::load(&paths.groups())?;
            for g in store.groups() {
                println!("{}\t{}", g.id, g.name);
            }
            Ok(0)
        }
        GroupsCommand::Create { name, description } => {
            let setup = Setup::new(global).await?;
            let (engine, mut updates, task) = setup.start_engine()?;
            engine.send(Command::CreateGroup { name, description });
            let mut code = EXIT_FAILED;
            while let Some(u) = updates.recv().await {
                match u {
                    Update::GroupCreated(g) => {
                        println!("{}", g.id);
                        code = 0;
                        engine.send(Command::Shutdown);
                    }
                    Update::GroupFailed { name, error } => {
                        eprintln!("cannot create group `{name}`: {error}");
                        engine.send(Command::Shutdown);
                    }
                    Update::Stopped { .. } => break,
                    _ => {}
                }
            }
            let _ = task.await;
            Ok(code)
        }
    }
}

fn show(p: &Preset) {
    println!("name          = {}", p.name);
    println!("group_id      = {}", p.group_id);
    println!("asset_type    = {}", p.asset_type);
    println!("name_template = {}", p.name_template);
    if let Some(d) = &p.description {
        println!("description   = {}", crate::text::sanitize(d));
    }
    println!("default       = {}", p.default);
}

pub(super) fn presets(global: &GlobalArgs, cmd: PresetsCommand) -> Result<u8, String> {
    let paths = global.paths()?;
    let loaded = Config::load(&paths.config_file).map_err(|e| e.to_string())?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let cfg = &loaded.config;
    match cmd {
        PresetsCommand::List => {
            if cfg.presets.is_empty() {
                eprintln!("no presets in {}", paths.config_file.display());
            }
            let default = cfg.default_preset().map(|p| p.name.clone());
            for p in &cfg.presets {
                let mark = if Some(&p.name) == default.as_ref() { "*" } else { " " };
                println!("{mark} {}\t{}\t{}\t{}", p.name, p.group_id, p.asset_type, p.name_template);
            }
            Ok(0)
        }
        PresetsCommand::Show { name } => match cfg.preset(&name) {
            Some(p) => {
                show(p);
                Ok(0)
            }
            None => {
                eprintln!("no preset named `{name}` in {}", paths.config_file.display());
                Ok(EXIT_USAGE)
            }
        },
    }
}

pub(super) async fn sim(host: IpAddr, port: u16, config: SimConfig) -> Result<u8, String> {
    if !host.is_loopback() {
        eprintln!("warning: the simulator listens on {host}, which is not loopback");
    }
    let sim = Sim::start(config.clone(), SocketAddr::new(host, port))
        .await
        .map_err(|e| format!("cannot start the simulator on {host}:{port}: {e}"))?;
    eprintln!(
        "simulator listening on {} (key `{}`); stats at {}_stats",
        sim.base_url(),
        config.api_key,
        sim.base_url()
    );
    let group = sim.state().add_group("sim");
    eprintln!("a group to start with: {group}");
    tokio::select! {
        _ = sim.serve_forever() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(0)
}
