//! Bad input of every kind never panics: server bodies, config text, input
//! lines, keys and pastes.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;
use seedance_assets::api::{AssetInfo, CreatedAsset, Endpoint, decode_response};
use seedance_assets::config::{Config, Template, TypeChoice};
use seedance_assets::intake::{ImportDefaults, parse_lines};
use seedance_assets::tui::app::App;

fn json_like() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("1".to_string()),
        Just("0".to_string()),
        Just("\"Active\"".to_string()),
        Just("\"Failed\"".to_string()),
        "\"\\PC{0,12}\"".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "state", "data", "error", "Id", "task_id", "Status", "Error", "Code", "Message", "code",
                        "message"
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| format!(
                "{{{}}}",
                kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",")
            )),
        ]
    })
}

proptest! {
    #[test]
    fn any_response_decodes_or_errors(status in 100u16..600, body in prop_oneof![json_like(), "\\PC{0,80}"]) {
        let _ = decode_response::<AssetInfo>(Endpoint::GetAsset, status, None, body.as_bytes());
        let r = decode_response::<CreatedAsset>(Endpoint::CreateAsset, status, None, body.as_bytes());
        if let Err(e) = r {
            prop_assert!(!e.to_string().chars().any(|c| c.is_control()));
        }
    }

    #[test]
    fn any_config_text_loads_or_errors(text in "\\PC{0,200}") {
        let _ = Config::parse(&text, Path::new("fuzz.toml"));
    }

    #[test]
    fn any_input_lines_parse_or_report(text in "(\\PC|\n|\t|,){0,300}") {
        let d = ImportDefaults { force_type: false, group_id: "g".into(), asset_type: TypeChoice::Infer, template: Template::stem(), date: "2026-11-24".into(), loopback_http: false };
        let (jobs, errors) = parse_lines(&text, &d);
        for j in &jobs {
            prop_assert!(j.url.starts_with("https://"));
            prop_assert!(!j.name.is_empty() && j.name.chars().count() <= 64);
        }
        for e in &errors {
            prop_assert!(e.line >= 1 && e.line <= text.lines().count());
        }
    }

    #[test]
    fn any_keys_and_pastes_keep_the_dashboard_drawable(
        keys in prop::collection::vec((0u8..40, any::<char>(), any::<bool>()), 0..120),
        paste in "\\PC{0,60}",
    ) {
        let mut app = App::new("fuzz", Vec::new(), false, "2026-11-24");
        for (k, c, ctrl) in keys {
            let code = match k {
                0 => KeyCode::Tab, 1 => KeyCode::BackTab, 2 => KeyCode::Enter, 3 => KeyCode::Esc,
                4 => KeyCode::Up, 5 => KeyCode::Down, 6 => KeyCode::Left, 7 => KeyCode::Right,
                8 => KeyCode::PageUp, 9 => KeyCode::PageDown, 10 => KeyCode::Home, 11 => KeyCode::End,
                12 => KeyCode::Backspace, 13 => KeyCode::Delete,
                _ => KeyCode::Char(c),
            };
            let mods = if ctrl && c != 'c' { KeyModifiers::CONTROL } else { KeyModifiers::NONE };
            app.handle_key(KeyEvent::new(code, mods));
            if k == 20 { app.handle_paste(&paste); }
            let _ = app.take_effects();
        }
        for (w, h) in [(80, 24), (40, 10), (200, 60)] {
            let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
            seedance_assets::tui::view::prepare(&mut app, t.get_frame().area());
            t.draw(|f| seedance_assets::tui::view::draw(f, &app)).unwrap();
        }
    }
}
