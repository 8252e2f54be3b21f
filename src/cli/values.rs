//! Value parsers for `--state` and `--type`: they offer their values to
//! completions and `--help`, and keep this program's error messages.

use std::ffi::OsStr;
use std::marker::PhantomData;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;

use crate::config::TypeChoice;
use crate::engine::JobState;

/// Parses with `FromStr` and lists `names` as the possible values.
#[derive(Debug)]
pub struct Named<T> {
    names: Vec<&'static str>,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for Named<T> {
    fn clone(&self) -> Self {
        Named { names: self.names.clone(), _value: PhantomData }
    }
}

impl<T> TypedValueParser for Named<T>
where
    T: std::str::FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, _arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let text = value.to_str().ok_or_else(|| clap::Error::new(ErrorKind::InvalidUtf8).with_cmd(cmd))?;
        text.parse().map_err(|e: String| clap::Error::raw(ErrorKind::InvalidValue, format!("{e}\n")).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.names.iter().map(|n| PossibleValue::new(*n))))
    }
}

/// `--state`: the job states, lower case.
pub fn state_parser() -> Named<JobState> {
    Named { names: JobState::ALL.iter().map(|s| s.as_str()).collect(), _value: PhantomData }
}

/// `--type`: `infer` and the asset types.
pub fn type_parser() -> Named<TypeChoice> {
    Named { names: vec!["infer", "Image", "Video", "Audio"], _value: PhantomData }
}
