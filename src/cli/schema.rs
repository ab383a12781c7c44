//! `rolecall schema`: print the JSON Schema of the manifest format.

use clap::Args;

use super::Outcome;
use super::session::Session;

const AFTER_HELP: &str = "\
Examples:
  rolecall schema > rolecall.schema.json

Then point yaml-language-server (VS Code's YAML extension, Neovim, Helix) at it
from the top of a manifest:

  # yaml-language-server: $schema=../rolecall.schema.json
  kind: Role
  name: web-server
  trust: ec2

The schema checks shape as you type; `rolecall validate` checks everything
(uniqueness, references, AWS quotas) with the place of each problem.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct SchemaArgs {}

pub fn run(_session: &Session, _args: SchemaArgs) -> anyhow::Result<Outcome> {
    super::output::write_stdout(&crate::manifest::schema::to_json())?;
    Ok(Outcome::Clean)
}
