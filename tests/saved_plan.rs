//! Saved plans, with the real binary: `apply FILE` runs exactly the steps
//! that the file's desired state and the account give now, and refuses a
//! file whose steps or shown changes were edited, or that was made for
//! another account or from an account that moved since.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use rolecall::cloud::Cloud;
use rolecall::cloud::iam::{Tag, TagRoleRequest};
use rolecall::emulator::Emulator;
use serde_json::{Value, json};

const FIXTURE: &str = "tests/fixtures/stack";

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("manifests")).unwrap();
        for entry in std::fs::read_dir(FIXTURE).unwrap() {
            let entry = entry.unwrap();
            let to = dir.path().join("manifests").join(entry.file_name());
            std::fs::copy(entry.path(), to).unwrap();
        }
        Lab { dir }
    }

    /// The fixture applied, then `team: web` changed to `team: webx`: the
    /// plan saved in `plan.json` is one TagRole on role/web.
    fn with_saved_tag_change() -> Self {
        let lab = Lab::new();
        lab.run(&["apply", "-f", "manifests", "--auto-approve"])
            .success();
        lab.edit("team: web", "team: webx");
        lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
            .success();
        lab
    }

    fn account(&self) -> PathBuf {
        self.dir.path().join("account.db")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `rolecall --account <lab account> ARGS`, in the lab's directory.
    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.run_on(&self.account(), args)
    }

    fn run_on(&self, account: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut command = Command::cargo_bin("rolecall").unwrap();
        command
            .current_dir(self.dir.path())
            .env_remove("ROLECALL_ACCOUNT")
            .env("NO_COLOR", "1")
            .arg("--account")
            .arg(account)
            .args(args);
        command.assert()
    }

    fn cloud(&self) -> Emulator {
        Emulator::open(&self.account()).unwrap()
    }

    fn edit(&self, from: &str, to: &str) {
        let file = self.path("manifests/stack.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(from), "fixture has no `{from}`");
        std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
    }

    fn read_plan(&self, name: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.path(name)).unwrap()).unwrap()
    }

    fn write_plan(&self, name: &str, plan: &Value) {
        std::fs::write(self.path(name), serde_json::to_string_pretty(plan).unwrap()).unwrap();
    }

    /// `apply NAME` is refused (exit 1): its error message.
    fn refused(&self, name: &str) -> String {
        let refused = self.run(&["apply", name]).code(1);
        let message = stderr(&refused);
        assert!(
            message.contains(&format!("{name}: ")),
            "the file is named: {message}"
        );
        message
    }

    /// The account holds what it held before the saved tag change, and its
    /// lock was released cleanly (an empty lock file).
    fn assert_untouched(&self) {
        let live = self.cloud().snapshot().unwrap();
        let web = &live.roles["web"].role;
        assert_eq!(web.tags.get("team").unwrap(), "web", "nothing was applied");
        assert_eq!(
            web.managed_policies.iter().collect::<Vec<_>>(),
            ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
        );
        let lock = std::fs::read(self.path("account.db.lock")).unwrap();
        assert!(lock.is_empty(), "lock left behind: {lock:?}");
    }
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const EDITED: &str = "saved plan does not match its own desired state";

#[test]
fn an_edited_step_is_refused_and_nothing_runs() {
    let lab = Lab::with_saved_tag_change();
    let saved = lab.read_plan("plan.json");
    assert_eq!(saved["steps"].as_array().unwrap().len(), 1, "{saved}");
    assert_eq!(saved["steps"][0]["operation"], "TagRole");

    // The plan shows `tags.team: web -> webx`; its one step now attaches
    // AdministratorAccess instead.
    let mut swapped = saved.clone();
    swapped["steps"][0]["operation"] = json!("AttachRolePolicy");
    swapped["steps"][0]["params"] = json!({"RoleName": "web", "PolicyArn": ADMIN});
    lab.write_plan("swapped.json", &swapped);
    let message = lab.refused("swapped.json");
    assert!(message.contains(EDITED), "{message}");
    assert!(
        message.contains(&format!(
            "step 1 AttachRolePolicy role/web (RoleName \"web\", PolicyArn \"{ADMIN}\"): planned TagRole role/web"
        )),
        "{message}"
    );
    lab.assert_untouched();

    // Or a step is added after the one that was shown.
    let mut added = saved.clone();
    added["steps"].as_array_mut().unwrap().push(json!({
        "id": 2, "operation": "AttachRolePolicy", "resource": "role/web",
        "params": {"RoleName": "web", "PolicyArn": ADMIN}, "depends_on": [1]
    }));
    lab.write_plan("added.json", &added);
    let message = lab.refused("added.json");
    assert!(
        message.contains(&format!(
            "step 2 AttachRolePolicy role/web: in the file, not planned (RoleName \"web\", PolicyArn \"{ADMIN}\")"
        )),
        "{message}"
    );
    lab.assert_untouched();

    // Or the step's parameters are edited.
    let mut retagged = saved.clone();
    retagged["steps"][0]["params"]["Tags"][1]["Value"] = json!("admins");
    lab.write_plan("retagged.json", &retagged);
    let message = lab.refused("retagged.json");
    assert!(
        message.contains(
            r#"step 1 TagRole role/web: params.Tags[1].Value: file "admins", planned "webx""#
        ),
        "{message}"
    );
    lab.assert_untouched();

    // The file as saved still applies, without taking over a lock.
    let applied = lab.run(&["apply", "plan.json"]).success();
    assert!(
        !stderr(&applied).contains("took over"),
        "{}",
        stderr(&applied)
    );
    assert_eq!(
        lab.cloud().snapshot().unwrap().roles["web"]
            .role
            .tags
            .get("team")
            .unwrap(),
        "webx"
    );
}

/// A field rolecall does not write is refused wherever it is, named by its
/// path, even where serde would ignore it (an extra `PolicyArn` in a
/// TagRole's params changes nothing that runs, but the file is not the
/// plan that was shown); so is a field rolecall writes, missing. Key order
/// and layout are free.
#[test]
fn a_field_rolecall_does_not_write_is_refused_by_its_path() {
    let lab = Lab::with_saved_tag_change();
    let saved = lab.read_plan("plan.json");
    let web = saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["resource"] == "role/web")
        .unwrap();
    // (file name, the edit given the index of role/web's change, the error)
    type Edit = (&'static str, fn(&mut Value, usize), String);
    let edits: [Edit; 5] = [
        (
            "params",
            |plan, _| plan["steps"][0]["params"]["PolicyArn"] = json!(ADMIN),
            "it holds `steps[0].params.PolicyArn`, which rolecall does not write".into(),
        ),
        (
            "change",
            |plan, web| plan["changes"][web]["note"] = json!("x"),
            format!("it holds `changes[{web}].note`, which rolecall does not write"),
        ),
        (
            "desired",
            |plan, _| plan["desired"]["roles"]["web"]["admin"] = json!(true),
            "it holds `desired.roles.web.admin`, which rolecall does not write".into(),
        ),
        (
            "top",
            |plan, _| plan["extra"] = json!({}),
            "it holds `extra`, which rolecall does not write".into(),
        ),
        (
            "default",
            |plan, _| plan["steps"][0]["emulator_only"] = json!(false),
            "it holds `steps[0].emulator_only`, which rolecall does not write".into(),
        ),
    ];
    for (name, edit, expected) in edits {
        let mut edited = saved.clone();
        edit(&mut edited, web);
        let file = format!("{name}.json");
        lab.write_plan(&file, &edited);
        let message = lab.refused(&file);
        assert_eq!(
            message,
            format!("error: {file}: not a rolecall plan: {expected}\n"),
            "{name}"
        );
        lab.assert_untouched();
    }

    // Compact, keys in another order: the same plan.
    let mut reordered = serde_json::Map::new();
    for (key, value) in saved.as_object().unwrap().iter().rev() {
        reordered.insert(key.clone(), value.clone());
    }
    std::fs::write(
        lab.path("compact.json"),
        serde_json::to_string(&Value::Object(reordered)).unwrap(),
    )
    .unwrap();
    lab.run(&["apply", "compact.json"]).success();
    assert_eq!(
        lab.cloud().snapshot().unwrap().roles["web"]
            .role
            .tags
            .get("team")
            .unwrap(),
        "webx"
    );
}

#[test]
fn an_edited_change_warning_summary_or_stack_is_refused() {
    let lab = Lab::with_saved_tag_change();
    let saved = lab.read_plan("plan.json");
    let web = saved["changes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["resource"] == "role/web")
        .unwrap();
    assert_eq!(saved["changes"][web]["action"], "update");
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            r#"change role/web (update): after.tags.team: file "web", planned "webx""#,
            Box::new(move |plan| plan["changes"][web]["after"]["tags"]["team"] = json!("web")),
        ),
        (
            // A policy document is named where it differs, not printed.
            r#"change role/web (update): before.trust.Statement[0].Effect: file "Deny", planned "Allow""#,
            Box::new(move |plan| {
                plan["changes"][web]["before"]["trust"]["Statement"][0]["Effect"] = json!("Deny")
            }),
        ),
        (
            r#"change role/web (replace): planned role/web (update)"#,
            Box::new(move |plan| plan["changes"][web]["action"] = json!("replace")),
        ),
        (
            // The name a change is shown by (an instance's Name tag).
            r#"change role/web (update): name: file "db-1", planned null"#,
            Box::new(move |plan| plan["changes"][web]["name"] = json!("db-1")),
        ),
        (
            r#"warning 1: file "all is well", planned none"#,
            Box::new(|plan| plan["warnings"] = json!(["all is well"])),
        ),
        (
            "summary.update: file 0, planned 1",
            Box::new(|plan| plan["summary"]["update"] = json!(0)),
        ),
        (
            r#"stack: file "other", planned "shop""#,
            Box::new(|plan| plan["stack"] = json!("other")),
        ),
    ];
    for (expected, edit) in edits {
        let mut plan = saved.clone();
        edit(&mut plan);
        lab.write_plan("edited.json", &plan);
        let message = lab.refused("edited.json");
        assert!(message.contains(EDITED), "{message}");
        assert!(message.contains(expected), "{expected}\n{message}");
        assert!(!message.contains("Version"), "no document: {message}");
        lab.assert_untouched();
    }
}

#[test]
fn an_edited_desired_state_with_matching_steps_is_refused_by_what_it_shows() {
    let lab = Lab::with_saved_tag_change();
    // The steps and desired state of a plan that also attaches
    // AdministratorAccess, grafted onto the plan that shows only the tag.
    lab.edit(
        "managed_policies:\n",
        &format!("managed_policies:\n  - {ADMIN}\n"),
    );
    lab.run(&["plan", "-f", "manifests", "--out", "admin.json"])
        .success();
    let admin = lab.read_plan("admin.json");
    let mut forged = lab.read_plan("plan.json");
    forged["desired"] = admin["desired"].clone();
    forged["steps"] = admin["steps"].clone();
    assert_eq!(forged["fingerprints"], admin["fingerprints"]);
    lab.write_plan("forged.json", &forged);
    let message = lab.refused("forged.json");
    assert!(message.contains(EDITED), "{message}");
    assert!(
        message.contains(&format!(
            r#"change role/web (update): after.managed_policies: planned also has "{ADMIN}"; attributes: file ["tags"], planned ["managed_policies","tags"]"#
        )),
        "{message}"
    );
    assert!(!message.contains("step "), "the steps match: {message}");
    lab.assert_untouched();

    // The desired state of another stack under this plan's `stack`.
    let mut other = lab.read_plan("plan.json");
    other["desired"]["stack"] = json!("other");
    lab.write_plan("other.json", &other);
    let message = lab.refused("other.json");
    assert!(
        message.contains(r#"stack: file "shop", planned "other""#),
        "{message}"
    );
    lab.assert_untouched();

    // A desired state that cannot be planned is refused too.
    let mut unplannable = lab.read_plan("plan.json");
    unplannable["desired"]["instances"]
        .as_array_mut()
        .unwrap()
        .push(json!({"selector": {"name": "web-1"}, "profile": "web"}));
    lab.write_plan("unplannable.json", &unplannable);
    let message = lab.refused("unplannable.json");
    assert!(
        message.contains("the saved plan's desired state cannot be planned against the account now; nothing was applied: cannot plan"),
        "{message}"
    );
    lab.assert_untouched();
}

#[test]
fn a_plan_whose_account_moved_is_refused() {
    let lab = Lab::with_saved_tag_change();
    std::fs::copy(lab.path("plan.json"), lab.path("again.json")).unwrap();
    // The role the plan changes, changed by hand: stale, as before.
    lab.cloud()
        .tag_role(&TagRoleRequest {
            role_name: "web".into(),
            tags: vec![Tag::new("oncall", "alice")],
        })
        .unwrap();
    let message = lab.refused("plan.json");
    assert!(message.contains("saved plan is stale"), "{message}");
    assert!(message.contains("changed: role/web"), "{message}");

    // A role the plan leaves alone, changed by hand: planned again, the
    // plan would also change it back, which it does not show.
    lab.run(&[
        "emulator",
        "untag-role",
        "--role-name",
        "web",
        "--tag-keys",
        "oncall",
    ])
    .success();
    lab.run(&[
        "emulator",
        "tag-role",
        "--role-name",
        "batch",
        "--tags",
        "Key=oncall,Value=bob",
    ])
    .success();
    let message = lab.refused("again.json");
    assert!(message.contains(EDITED), "{message}");
    assert!(message.contains("UntagRole role/batch"), "{message}");
    assert!(
        message.contains("change role/batch (noop): planned role/batch (update)"),
        "{message}"
    );
    assert_eq!(
        lab.cloud().snapshot().unwrap().roles["web"]
            .role
            .tags
            .get("team")
            .unwrap(),
        "web",
        "nothing was applied"
    );
}

#[test]
fn a_plan_for_another_account_is_refused() {
    let lab = Lab::new();
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    let other = lab.path("other.db");
    Emulator::create(&other, "111122223333").unwrap();
    let refused = lab.run_on(&other, &["apply", "plan.json"]).code(1);
    let message = stderr(&refused);
    assert!(
        message.contains(
            "plan.json: saved plan is for account 123456789012, but the account is 111122223333"
        ),
        "{message}"
    );
    let live = Emulator::open(&other).unwrap().snapshot().unwrap();
    assert!(live.roles.is_empty() && live.instances.is_empty());
}

#[test]
fn a_saved_plan_of_every_kind_of_change_applies_and_converges() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    // Updates (tags, a policy, a description), creates, deletes.
    lab.edit("team: web", "team: webx");
    lab.edit("s3:GetObject", "s3:GetObject, s3:ListBucket");
    lab.edit("Serves the shop", "Serves the storefront");
    lab.edit("---\nkind: InstanceProfile\nname: batch\nrole: batch\n", "");
    lab.edit(
        "---\nkind: Role\nname: batch\ntrust: ec2\n",
        "---\nkind: Role\nname: reports\ntrust: lambda\n",
    );
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    let saved = lab.read_plan("plan.json");
    assert_eq!(
        saved["summary"],
        json!({"create": 1, "update": 1, "replace": 0, "delete": 2})
    );
    assert_eq!(saved["options"], json!({"force": false}));
    assert_eq!(saved["desired"]["stack"], "shop");
    let applied = lab.run(&["apply", "plan.json"]).success();
    assert!(
        stdout(&applied).contains("Apply complete: 1 created, 1 updated, 0 replaced, 2 deleted."),
        "{}",
        stdout(&applied)
    );
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
    lab.run(&["drift", "-f", "manifests"]).code(0);
}

#[test]
fn a_saved_lab_plan_that_launches_instances_applies() {
    let lab = Lab::new();
    // A profile without a role: its instance is launched bare, then
    // associated under the key `instance/NAME`.
    let stack = lab.path("manifests/stack.yaml");
    let mut text = std::fs::read_to_string(&stack).unwrap();
    text.push_str(
        "---\nkind: InstanceProfile\nname: bare\n---\nkind: Instance\nname: lab-2\nprofile: bare\n",
    );
    std::fs::write(&stack, text).unwrap();
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    let saved = lab.read_plan("plan.json");
    let steps = saved["steps"].as_array().unwrap();
    let has = |operation: &str, resource: &str| {
        steps
            .iter()
            .any(|s| s["operation"] == operation && s["resource"] == resource)
    };
    assert!(has("RunInstances", "instance/web-1"), "{saved}");
    assert!(has("RunInstances", "instance/lab-2"), "{saved}");
    assert!(
        steps
            .iter()
            .any(|s| s["operation"] == "AssociateIamInstanceProfile"
                && s["params"]["InstanceId"] == "instance/lab-2"),
        "{saved}"
    );
    // What rolecall writes, missing, is refused too: here the mark of a
    // step only the emulated account can run.
    let launch = steps
        .iter()
        .position(|s| s["operation"] == "RunInstances")
        .unwrap();
    assert_eq!(steps[launch]["emulator_only"], true);
    let mut unmarked = saved.clone();
    unmarked["steps"][launch]
        .as_object_mut()
        .unwrap()
        .remove("emulator_only");
    lab.write_plan("unmarked.json", &unmarked);
    assert!(lab.refused("unmarked.json").contains(&format!(
        "not a rolecall plan: it lacks `steps[{launch}].emulator_only`, which rolecall writes"
    )));
    lab.run(&["apply", "plan.json"]).success();
    let live = lab.cloud().snapshot().unwrap();
    let profile_of = |name: &str| {
        live.instances
            .values()
            .find(|i| i.name.as_deref() == Some(name))
            .and_then(|i| i.association.as_ref())
            .map(|a| a.profile_name.clone())
    };
    assert_eq!(profile_of("web-1").as_deref(), Some("web"));
    assert_eq!(profile_of("lab-2").as_deref(), Some("bare"));
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn a_saved_plan_made_with_force_applies_with_force() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    // Profile `batch` goes, while an instance nobody manages uses it.
    lab.edit("---\nkind: InstanceProfile\nname: batch\nrole: batch\n", "");
    lab.edit("---\nkind: Role\nname: batch\ntrust: ec2\n", "");
    lab.run(&[
        "emulator",
        "run-instances",
        "--iam-instance-profile",
        "Name=batch",
    ])
    .success();
    let refused = lab
        .run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .code(1);
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    lab.run(&["plan", "-f", "manifests", "--force", "--out", "plan.json"])
        .success();
    let saved = lab.read_plan("plan.json");
    assert_eq!(saved["options"], json!({"force": true}));

    // Without its --force, the same desired state cannot be planned.
    let mut unforced = saved.clone();
    unforced["options"]["force"] = json!(false);
    lab.write_plan("unforced.json", &unforced);
    let message = lab.refused("unforced.json");
    assert!(message.contains("cannot be planned"), "{message}");
    assert!(
        lab.cloud()
            .snapshot()
            .unwrap()
            .profiles
            .contains_key("batch")
    );

    let applied = lab.run(&["apply", "plan.json"]).success();
    assert!(
        stdout(&applied).contains("0 created, 0 updated, 0 replaced, 2 deleted."),
        "{}",
        stdout(&applied)
    );
    let live = lab.cloud().snapshot().unwrap();
    assert!(!live.profiles.contains_key("batch"));
    assert!(live.instances.values().all(|i| {
        i.association.is_none()
            || i.association
                .as_ref()
                .is_some_and(|a| a.profile_name != "batch")
    }));
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn a_plan_saved_without_its_desired_state_is_refused() {
    let lab = Lab::new();
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    for field in ["desired", "options", "account_id"] {
        let mut plan = lab.read_plan("plan.json");
        plan.as_object_mut().unwrap().remove(field);
        lab.write_plan("old.json", &plan);
        let message = lab.refused("old.json");
        assert!(
            message.contains("not a rolecall plan: it does not hold the account, fingerprints and desired state it was planned from"),
            "{field}: {message}"
        );
    }
    assert!(!lab.account().exists() || lab.cloud().snapshot().unwrap().roles.is_empty());
}

/// A saved plan made before the account existed applies to a new account,
/// and a refused one creates none.
#[test]
fn a_refused_saved_plan_creates_no_account_and_a_good_one_does() {
    let lab = Lab::new();
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    let mut edited = lab.read_plan("plan.json");
    let create_role = edited["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|step| step["operation"] == "CreateRole")
        .unwrap();
    create_role["params"]["RoleName"] = "admin".into();
    lab.write_plan("edited.json", &edited);
    lab.refused("edited.json");
    assert!(
        !lab.account().exists(),
        "a refused plan created the account"
    );
    lab.run(&["apply", "plan.json"]).success();
    assert!(lab.account().exists());
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

/// A plan printed with `plan --format json` is the published plan, not a
/// saved one: it holds neither the account nor what it was planned from,
/// so `apply` refuses it and says how to save one, whether the file is as
/// printed or laid out otherwise.
#[test]
fn a_printed_json_plan_is_not_a_saved_plan_and_is_refused() {
    let lab = Lab::with_saved_tag_change();
    let printed = lab.run(&["plan", "-f", "manifests", "--format", "json"]);
    let printed = stdout(&printed.success());
    std::fs::write(lab.path("printed.json"), &printed).unwrap();
    let compact: Value = serde_json::from_str(&printed).unwrap();
    std::fs::write(lab.path("compact.json"), compact.to_string()).unwrap();
    for name in ["printed.json", "compact.json"] {
        let message = lab.refused(name);
        assert!(
            message.contains("save plans with `rolecall plan --out FILE`"),
            "{message}"
        );
        lab.assert_untouched();
    }
}
