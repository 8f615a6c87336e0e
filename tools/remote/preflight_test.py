"""The remote-execution guard: which commands it checks, what it reads, which pools it probes, what it sends.

Bazel's own output comes from fixtures captured from Bazel 7.7 on kiln's workspace
(testdata/: BEP optionsParsed events, aquery listings, a cquery of the execution
platforms); `check` runs against a stand-in bazel that replays them and a stand-in bgd
that records what it is asked. preflight_bazel_test.py runs the real ./bazelw and Bazel.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tools.remote import preflight

TESTDATA = Path(__file__).parent / "testdata"
EXECUTOR = "grpc://127.0.0.1:50051"
HOST = {"OSFamily": "linux", "arch": "x86_64"}
TOKEN, TOKEN_FILE = "t0ken", "/token"  # the bearer token of testdata/options/auth.jsonl; a test value
AMPERE_PLUS = {"OSFamily": "linux", "arch": "x86_64", "gpu_compat": "ampere_plus", "tensorrt": "10.13"}

# The remote part of kiln's .bazelrc, as the rc reading sees it.
PROJECT_RC = textwrap.dedent("""\
    # Project-wide Bazel flags.
    common --enable_bzlmod
    build --spawn_strategy=linux-sandbox,processwrapper-sandbox
    build --disk_cache=~/.cache/kiln/bazel-disk-cache
    #   --config=remote-exec    execute on remote workers (and use the cache)
    build:remote-cache --remote_cache=grpc://127.0.0.1:50051
    build:remote-cache --remote_download_all
    build:remote-exec --config=remote-cache
    build:remote-exec --remote_executor=grpc://127.0.0.1:50051
    build:remote-exec --spawn_strategy=remote,linux-sandbox
    build:ci-readonly --config=remote-cache
    build:ci-readonly --noremote_upload_local_results
    test --test_output=errors
    try-import %workspace%/.bazelrc.host
    try-import %workspace%/user.bazelrc
""")


def options(name: str) -> list[str]:
    with open(TESTDATA / "options" / f"{name}.jsonl", encoding="utf-8") as lines:
        found = preflight.options_from_bep(lines)
    assert found is not None
    return found


def lines_of(*texts: str) -> list[str]:
    return [line for text in texts for line in preflight.logical_lines(text)]


# ---------------------------------------------------------------- the command line


def test_split_command_skips_startup_options_and_their_values():
    invocation = preflight.split_command(["--output_base", "/ob", "--batch", "build", "--config=x", "//a"])
    assert invocation == preflight.Invocation(["--output_base", "/ob", "--batch"], "build", ["--config=x", "//a"])
    assert preflight.split_command(["--bazelrc=/r", "version"]).command == "version"
    assert preflight.split_command(["--help"]).command is None


def test_startup_values():
    startup = ["--bazelrc=/a", "--bazelrc", "/b", "--output_base=/o"]
    assert preflight.startup_values(startup, "bazelrc") == ["/a", "/b"]


# ---------------------------------------------------------------- the textual pre-check


@pytest.mark.parametrize(
    "args",
    [
        ["//corpus:transformers"],
        ["--config=remote-cache", "//fleet:all"],
        ["--config", "ci-readonly", "//fleet:all"],
        ["--jobs", "4", "--keep_going", "//..."],
    ],
)
def test_not_remote_is_decided_without_bazel(args):
    assert not preflight.may_execute_remotely(lines_of(PROJECT_RC), args)


@pytest.mark.parametrize(
    "args",
    [
        ["--config=remote-exec", "//fleet:all"],
        ["--config", "remote-exec", "//fleet:all"],
        ["--remote_executor=grpc://127.0.0.1:1", "//fleet:all"],
        ["--remote_executor", "grpc://127.0.0.1:1"],
        ["--flagfile=flags.txt", "//x"],
        ["--config"],
    ],
)
def test_what_may_be_remote_goes_to_bazel(args):
    assert preflight.may_execute_remotely(lines_of(PROJECT_RC), args)


@pytest.mark.parametrize(
    "rc",
    [
        "build --config=remote-exec\n",
        "common --config remote-exec\n",
        "test --remote_executor=grpcs://127.0.0.1:8980\n",
        "build --config=mine\nbuild:mine --config=remote-exec\n",
        "build:linux --remote_executor=grpc://127.0.0.1:1\n",  # applied by --enable_platform_specific_config
        "build \\\n  --config=remote-exec\n",
    ],
)
def test_an_rc_file_that_asks_for_remote_execution_is_seen(rc):
    assert preflight.may_execute_remotely(lines_of(PROJECT_RC, rc), ["//fleet:all"])


def test_an_rc_config_of_another_name_does_not_count():
    rc = "build:mine --remote_executor=grpc://127.0.0.1:1\n# build --config=mine\n"
    assert not preflight.may_execute_remotely(lines_of(PROJECT_RC, rc), ["//fleet:all"])
    assert preflight.may_execute_remotely(lines_of(PROJECT_RC, rc), ["--config=mine", "//fleet:all"])


def test_rc_files_are_read_with_their_imports(tmp_path):
    workspace, home = tmp_path / "ws", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    (workspace / ".bazelrc").write_text(PROJECT_RC)
    (workspace / "user.bazelrc").write_text("import %workspace%/more.bazelrc\n")
    (workspace / "more.bazelrc").write_text("build --config=remote-exec\n")
    paths = preflight.rc_candidates(workspace, ["--bazelrc=" + str(tmp_path / "extra.bazelrc")], home)
    assert workspace / ".bazelrc" in paths and home / ".bazelrc" in paths and tmp_path / "extra.bazelrc" in paths
    lines = preflight.read_rc_lines(paths, workspace)
    assert "build --config=remote-exec" in lines
    assert preflight.may_execute_remotely(lines, ["//x"])
    (workspace / "user.bazelrc").write_text("")
    assert not preflight.may_execute_remotely(preflight.read_rc_lines(paths, workspace), ["//x"])


def test_an_import_it_cannot_resolve_leaves_the_decision_to_bazel(tmp_path):
    (tmp_path / ".bazelrc").write_text("try-import %unknown%/x.bazelrc\n")
    assert preflight.read_rc_lines([tmp_path / ".bazelrc"], tmp_path) is None


def test_the_home_rc_is_read(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bazelrc").write_text("build --remote_executor=grpc://127.0.0.1:1\n")
    lines = preflight.read_rc_lines(preflight.rc_candidates(tmp_path, [], home), tmp_path)
    assert preflight.may_execute_remotely(lines, ["//x"])


# ---------------------------------------------------------------- Bazel's reading of the options


def test_split_targets():
    assert preflight.split_targets(["--config=remote-exec", "//a", "-k", "--", "-//b"]) == (
        ["--config=remote-exec", "-k"],
        ["//a", "-//b"],
    )
    assert preflight.split_targets(["--config", "remote-exec", "//a"]) is None
    assert preflight.split_targets(["--keep_going", "//a"]) is None
    assert preflight.split_targets(["//a", "--keep_going"]) == (["--keep_going"], ["//a"])


def test_the_residue_bazel_names_separates_targets():
    stderr = "INFO: Invocation ID: x\nERROR: Unrecognized arguments: //fleet:all //corpus:transformers\n"
    residue = preflight.canonicalize_residue(stderr)
    assert residue == ["//fleet:all", "//corpus:transformers"]
    args = ["--config", "remote-exec", "//fleet:all", "--jobs", "3", "//corpus:transformers"]
    assert preflight.remove_residue(args, residue) == (
        ["--config", "remote-exec", "--jobs", "3"],
        ["//fleet:all", "//corpus:transformers"],
    )
    assert preflight.canonicalize_residue("--config=remote-exec\n") == []
    assert preflight.canonicalize_residue("ERROR: --bogus :: Unrecognized option: --bogus\n") is None
    assert preflight.remove_residue(["//a"], ["//b"]) is None


def test_run_builds_its_first_word_only():
    assert preflight.targets_of("run", ["//tools:check", "--library", "x"]) == ["//tools:check"]
    assert preflight.targets_of("test", ["//a", "-//b"]) == ["//a", "-//b"]


@pytest.mark.parametrize("fixture", ["config_eq", "config_space", "rc_config", "bare_executor", "rc_bare"])
def test_each_way_of_asking_for_remote_execution_is_detected(fixture):
    # config_eq: --config=remote-exec; config_space: --config remote-exec; rc_config:
    # `build --config=remote-exec` in a --bazelrc (the home rc's slot); bare_executor:
    # --remote_executor=...; rc_bare: `common --remote_executor=...` in an rc file, for `test`.
    remote = preflight.remote_from_options(options(fixture))
    assert remote is not None
    assert remote.executor == EXECUTOR


@pytest.mark.parametrize("fixture", ["not_remote", "test_ci_readonly", "unset"])
def test_builds_that_are_not_remote(fixture):
    # --config=remote-cache; `test --config=ci-readonly`; --config=remote-exec --remote_executor=
    assert preflight.remote_from_options(options(fixture)) is None


def test_the_options_of_an_authenticated_service():
    remote = preflight.remote_from_options(options("auth"))
    assert remote.executor == "grpcs://127.0.0.1:8980"  # the command line's, after the config's
    assert remote.cache == EXECUTOR
    assert remote.instance_name == "kiln"
    assert remote.headers == (("Authorization", "Bearer t0ken"),)
    assert remote.exec_headers == (("x-extra", "1"),)
    assert (remote.tls_certificate, remote.tls_client_certificate, remote.tls_client_key) == (
        "/certs/ca.pem",
        "/certs/client.pem",
        "/certs/client.key",
    )


def test_option_readers():
    opts = ["--a=1", "--a", "2", "--nob", "--b", "--c=false", "--h=K=V", "--h=bad"]
    assert preflight.option_values(opts, "a") == ["1", "2"]
    assert preflight.last_value(opts, "a") == "2"
    assert preflight.boolean_option(opts, "b") is True
    assert preflight.boolean_option(opts, "c") is False
    assert preflight.key_value_pairs(preflight.option_values(opts, "h")) == [("K", "V")]
    remote = preflight.remote_from_options(["--remote_executor=unix:/s", "--credential_helper_timeout=1500ms"])
    assert remote.credential_helper_timeout == pytest.approx(1.5)


# ---------------------------------------------------------------- what the probe sends


def test_endpoints_as_bazel_and_bgd_read_them():
    assert preflight.uses_tls("grpcs://h:1") and preflight.uses_tls("h:1")
    assert not preflight.uses_tls("grpc://h:1") and not preflight.uses_tls("unix:/s")
    assert preflight.bgd_url("127.0.0.1:8980") == "grpcs://127.0.0.1:8980"
    assert preflight.bgd_url(EXECUTOR) == EXECUTOR
    assert preflight.host_of("grpcs://remote.kiln.test:443") == "remote.kiln.test"
    assert preflight.host_of("[::1]:8980") == "::1"
    assert preflight.host_of("unix:/s") is None
    assert preflight.service_uri("grpcs://remote.kiln.test:443") == (
        "https://remote.kiln.test/build.bazel.remote.execution.v2.Execution"
    )


def test_credential_helper_scopes():
    helpers = ["/default", "*.kiln.test=/wild", "exec.kiln.test=/exact", "other.test=/other"]
    assert preflight.credential_helper_for("exec.kiln.test", helpers) == "/exact"
    assert preflight.credential_helper_for("cache.kiln.test", helpers) == "/wild"
    assert preflight.credential_helper_for("kiln.test", helpers) == "/wild"
    assert preflight.credential_helper_for("127.0.0.1", helpers) == "/default"
    assert preflight.credential_helper_for("127.0.0.1", ["*.kiln.test=/wild"]) is None
    assert preflight.credential_helper_for(None, helpers) is None


def test_netrc_entries():
    text = "machine cache.kiln.test login u password p\n"
    assert preflight.netrc_has_entry(text, "cache.kiln.test")
    assert not preflight.netrc_has_entry(text, "127.0.0.1")
    assert preflight.netrc_has_entry("default login u password p", "127.0.0.1")


def test_instance_name_tls_and_token_reach_the_probe():
    remote = preflight.Remote(
        executor="grpcs://127.0.0.1:8980",
        instance_name="kiln",
        headers=(("Authorization", "Bearer t0ken"),),
        tls_certificate="/certs/ca.pem",
        tls_client_certificate="/certs/client.pem",
        tls_client_key="/certs/client.key",
    )
    target, problems = preflight.plan_probe(remote, {})
    assert problems == []
    assert target.token == TOKEN
    assert TOKEN not in repr(target)
    command = preflight.probe_command(
        "bgd", target, {"OSFamily": "linux"}, input_root="/root", output_directory="/out", token_file=TOKEN_FILE
    )
    assert command == [
        "bgd",
        "execute",
        "--remote",
        "grpcs://127.0.0.1:8980",
        "--instance-name",
        "kiln",
        "--server-cert",
        "/certs/ca.pem",
        "--client-cert",
        "/certs/client.pem",
        "--client-key",
        "/certs/client.key",
        "--auth-token",
        TOKEN_FILE,
        "command",
        "--output-directory",
        "/out",
        "-p",
        "OSFamily",
        "linux",
        "/root",
        "true",
    ]


def test_a_plaintext_executor_gets_no_tls_files_and_a_separate_cache_its_own_endpoint():
    remote = preflight.Remote(executor=EXECUTOR, cache="grpc://127.0.0.1:50052", tls_certificate="/ca.pem")
    target, problems = preflight.plan_probe(remote, {})
    assert problems == []
    command = preflight.probe_command("bgd", target, {}, input_root="/r", output_directory="/o")
    assert command[:6] == ["bgd", "execute", "--remote", EXECUTOR, "--remote-cas", "grpc://127.0.0.1:50052"]
    assert "--server-cert" not in command and "--auth-token" not in command
    tls = preflight.Remote(executor="grpcs://127.0.0.1:1", cache="grpcs://127.0.0.1:2", tls_certificate="/ca.pem")
    command = preflight.probe_command(
        "bgd", preflight.plan_probe(tls, {})[0], {}, input_root="/r", output_directory="/o"
    )
    assert command[4:6] == ["--server-cert", "/ca.pem"]
    assert command[6:10] == ["--remote-cas", "grpcs://127.0.0.1:2", "--cas-server-cert", "/ca.pem"]


def test_tls_files_go_with_the_endpoints_that_use_tls():
    remote = preflight.Remote(executor=EXECUTOR, cache="127.0.0.1:8981", tls_certificate="/ca.pem")
    target, _ = preflight.plan_probe(remote, {})
    command = preflight.probe_command("bgd", target, {}, input_root="/r", output_directory="/o")
    assert command[2:8] == [
        "--remote",
        EXECUTOR,
        "--remote-cas",
        "grpcs://127.0.0.1:8981",
        "--cas-server-cert",
        "/ca.pem",
    ]


def test_what_bgd_cannot_send_is_named_instead_of_probing_without_it():
    remote = preflight.remote_from_options(options("auth"))
    target, problems = preflight.plan_probe(remote, {})
    assert target is None
    assert problems == [
        "the header 'x-extra' (--remote_exec_header): bgd, the probe's client, sends no header but authorization"
    ]
    cases = {
        "--remote_header=x-api-key=k": "the header 'x-api-key'",
        "--remote_header=Authorization=Basic dTpw": "not a bearer token",
        "--google_default_credentials": "Google credentials",
        "--google_credentials=/key.json": "Google credentials",
        "--remote_proxy=unix:/proxy": "proxy",
        "--tls_authority_override=x": "TLS authority",
    }
    for option, named in cases.items():
        target, problems = preflight.plan_probe(
            preflight.remote_from_options([f"--remote_executor={EXECUTOR}", option]), {}
        )
        assert target is None, option
        assert any(named in problem for problem in problems), (option, problems)


def test_a_cache_with_other_credentials_cannot_be_probed():
    remote = preflight.Remote(
        executor=EXECUTOR,
        cache="grpc://127.0.0.1:50052",
        exec_headers=(("authorization", "Bearer a"),),
        cache_headers=(("authorization", "Bearer b"),),
    )
    assert preflight.plan_probe(remote, {})[0] is None


def test_credential_helper_headers_become_the_token_and_netrc_basic_auth_is_refused():
    remote = preflight.Remote(executor=EXECUTOR, credential_helpers=("/helper",))
    target, _ = preflight.plan_probe(remote, {EXECUTOR: {"Authorization": ["Bearer from-helper"]}})
    assert target.token == "from-helper"  # noqa: S105 - a test value, not a secret
    target, problems = preflight.plan_probe(remote, {EXECUTOR: {"x-api-key": ["k"]}})
    assert target is None and "from --credential_helper" in problems[0]
    target, problems = preflight.plan_probe(preflight.Remote(executor=EXECUTOR), {}, frozenset({"127.0.0.1"}))
    assert target is None and ".netrc" in problems[0]


def test_a_credential_helper_is_asked_as_bazel_asks_it(tmp_path, monkeypatch):
    helper = tmp_path / "helper"
    helper.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "assert sys.argv[1:] == ['get']\n"
        "uri = json.load(sys.stdin)['uri']\n"
        "print(json.dumps({'headers': {'Authorization': ['Bearer ' + uri]}}))\n"
    )
    helper.chmod(0o755)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    remote = preflight.Remote(executor=EXECUTOR, credential_helpers=(f"%workspace%/{helper.name}",))
    headers, netrc_hosts = preflight.gather_credentials(remote, tmp_path)
    assert headers == {EXECUTOR: {"Authorization": ["Bearer https://127.0.0.1:50051/" + preflight.EXECUTION_SERVICE]}}
    assert netrc_hosts == frozenset()
    helper.write_text("#!/bin/sh\nexit 3\n")
    with pytest.raises(preflight.PreflightError, match="exited with 3"):
        preflight.gather_credentials(remote, tmp_path)


# ---------------------------------------------------------------- which pools the build needs


def test_the_aquery_expression_follows_the_patterns():
    assert preflight.aquery_expression(["//corpus:transformers"]) == 'deps("//corpus:transformers")'
    assert (
        preflight.aquery_expression(["//fleet:fleet.mlp.sm80+_trt10.13"]) == 'deps("//fleet:fleet.mlp.sm80+_trt10.13")'
    )
    assert preflight.aquery_expression(["//...", "-//fleet/...", "//fleet:mlp"]) == (
        # Query operators are left-associative and of one precedence: ((A) except B) + C.
        'deps((("//..." except attr(tags, \'\\bmanual\\b\', "//..."))) except "//fleet/..." + "//fleet:mlp")'
    )
    assert preflight.aquery_expression(["//a:all"], tests_only=True) == (
        'deps(tests(("//a:all" except attr(tags, \'\\bmanual\\b\', "//a:all"))))'
    )
    assert preflight.aquery_expression(["-//a"]) is None
    assert preflight.aquery_expression([]) is None


def platforms():
    return preflight.platforms_from_cquery(json.loads((TESTDATA / "cquery_platforms.json").read_text()))


def pools(listing: str) -> list[dict[str, str]]:
    with open(TESTDATA / "aquery" / listing, encoding="utf-8") as lines:
        labels = preflight.execution_platforms(lines)
    return preflight.property_sets(labels, platforms())


def test_a_corpus_build_probes_the_ordinary_pool_only():
    assert pools("corpus.txt") == [HOST]


def test_an_ampere_plus_engine_probes_its_gpu_pool_too():
    # //fleet:fleet.mlp.sm80+_trt10.13 with --//platforms:executors=sm90_trt10.13: no ISA pool.
    assert pools("engine.txt") == [HOST, AMPERE_PLUS]


def test_platform_properties_merge_parents_and_defaults():
    found = platforms()
    assert preflight.platform_properties("@host_hardware//:default", found) == HOST
    assert preflight.platform_properties("@@//platforms/exec:x86-64-v4", found)["isa_level"] == "x86-64-v4"
    found["//child"] = ({"arch": "", "pool": "big"}, ["@host_hardware//:default"])
    assert preflight.platform_properties("//child", found) == {"OSFamily": "linux", "pool": "big"}
    assert preflight.property_sets(["@platforms//host:host"], found, {"OSFamily": "linux"}) == [{"OSFamily": "linux"}]
    with pytest.raises(preflight.PreflightError, match="did not describe"):
        preflight.platform_properties("//missing", found)


def test_actions_kept_local_do_not_count():
    listing = [
        "action 'a'",
        "  Execution platform: //p:remote",
        "",
        "action 'b'",
        "  Execution platform: //p:gpu",
        "  ExecutionInfo: {OSFamily: linux, no-remote-exec: ''}",
    ]
    assert preflight.execution_platforms(listing) == ["//p:remote"]


def test_options_a_query_refuses_are_dropped():
    stderr = "ERROR: --test_summary :: Unrecognized option: --test_summary\n"
    assert preflight.unrecognized_option(stderr) == "--test_summary"
    opts = ["--config=remote-exec", "--test_summary", "short", "--jobs=3"]
    assert preflight.drop_option(opts, "--test_summary") == ["--config=remote-exec", "--jobs=3"]


# ---------------------------------------------------------------- check, end to end with stand-ins

FAKE_BAZEL = f"""#!{sys.executable}
import json, os, shutil, sys
from pathlib import Path
data = Path(os.environ["FAKE_DATA"])
with open(data / "calls.jsonl", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = [a for a in sys.argv[1:] if not a.startswith("--output_base")]
command = args[0]
if command == "canonicalize-flags":
    residue = os.environ.get("FAKE_RESIDUE", "")
    print("ERROR: Unrecognized arguments: " + residue if residue else "", file=sys.stderr)
    sys.exit(2 if residue else 0)
if command in ("aquery", "cquery") and any(a.startswith("--test_summary") for a in args):
    print("ERROR: --test_summary=short :: Unrecognized option: --test_summary=short", file=sys.stderr)
    sys.exit(2)
if command == "aquery":
    out = next(a.split("=", 1)[1] for a in args if a.startswith("--output_file="))
    shutil.copy(data / "aquery.txt", out)
    sys.exit(0)
if command == "cquery":
    sys.stdout.write((data / "cquery.json").read_text())
    sys.exit(0)
bep = next(a.split("=", 1)[1] for a in args if a.startswith("--build_event_json_file="))
shutil.copy(data / "bep.jsonl", bep)
"""

FAKE_BGD = f"""#!{sys.executable}
import json, os, sys, time
argv = sys.argv[1:]
token = argv[argv.index("--auth-token") + 1] if "--auth-token" in argv else None
record = {{"argv": argv, "token": open(token).read() if token else None,
          "token_mode": oct(os.stat(token).st_mode & 0o777) if token else None}}
with open(os.environ["FAKE_DATA"] + "/bgd.jsonl", "a") as log:
    log.write(json.dumps(record) + "\\n")
refused = os.environ.get("FAKE_BGD_REFUSE", "")
if refused and refused in " ".join(argv):
    time.sleep(30)
"""


class Stand_ins:
    def __init__(self, root: Path, monkeypatch):
        self.data = root / "data"
        self.data.mkdir()
        self.workspace = root / "ws"
        self.workspace.mkdir()
        (self.workspace / ".bazelrc").write_text(PROJECT_RC)
        home = root / "home"
        home.mkdir()
        self.bazel = root / "bazel"
        self.bazel.write_text(FAKE_BAZEL)
        bgd = root / "bgd"
        bgd.write_text(FAKE_BGD)
        for tool in (self.bazel, bgd):
            tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("FAKE_DATA", str(self.data))
        monkeypatch.setenv("KILN_PREFLIGHT_BGD", str(bgd))
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("NETRC", str(root / "no-netrc"))
        monkeypatch.setattr(preflight, "SYSTEM_RC_FILES", ())

    def replay(self, bep: str, aquery: str = "engine.txt"):
        (self.data / "bep.jsonl").write_text((TESTDATA / "options" / f"{bep}.jsonl").read_text())
        (self.data / "aquery.txt").write_text((TESTDATA / "aquery" / aquery).read_text())
        (self.data / "cquery.json").write_text((TESTDATA / "cquery_platforms.json").read_text())

    def check(self, *argv: str, timeout: float = 5) -> int:
        return preflight.check(str(self.bazel), ["--output_base=/ob", *argv], self.workspace, timeout=timeout)

    def bazel_calls(self) -> list[list[str]]:
        return self._read("calls.jsonl")

    def probes(self) -> list[dict]:
        return self._read("bgd.jsonl")

    def _read(self, name: str) -> list:
        path = self.data / name
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def stand_ins(tmp_path, monkeypatch):
    return Stand_ins(tmp_path, monkeypatch)


def properties_of(argv: list[str]) -> dict[str, str]:
    return {argv[i + 1]: argv[i + 2] for i, word in enumerate(argv) if word == "-p"}


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "//corpus:transformers"],
        ["test", "--config=ci-readonly", "//..."],
        ["build", "--config", "remote-cache", "//fleet:all"],
        ["query", "--config=remote-exec", "//..."],
        ["version"],
    ],
)
def test_builds_that_are_not_remote_ask_bazel_nothing_and_probe_nothing(stand_ins, argv):
    stand_ins.replay("config_eq")
    assert stand_ins.check(*argv) == 0
    assert stand_ins.bazel_calls() == []
    assert stand_ins.probes() == []


def test_a_remote_build_probes_the_pools_of_its_actions(stand_ins, capsys):
    stand_ins.replay("config_eq")
    assert stand_ins.check("build", "--config=remote-exec", "//fleet:fleet.mlp.sm80+_trt10.13") == 0
    commands = [next(a for a in call if not a.startswith("--output_base")) for call in stand_ins.bazel_calls()]
    assert commands == ["build", "aquery", "cquery"]  # an unambiguous command line needs no canonicalize-flags
    build, aquery, _ = stand_ins.bazel_calls()
    assert "--nobuild" in build and "//fleet:fleet.mlp.sm80+_trt10.13" not in build
    assert "--experimental_build_event_upload_strategy=local" in build
    assert aquery[-1] == 'deps("//fleet:fleet.mlp.sm80+_trt10.13")' and "--config=remote-exec" in aquery
    assert sorted(properties_of(p["argv"]).items() for p in stand_ins.probes()) == sorted(
        [HOST.items(), AMPERE_PLUS.items()]
    )
    assert all(p["argv"][:4] == ["execute", "--remote", EXECUTOR, "command"] for p in stand_ins.probes())
    assert "workers take every kind of job this build sends (2:" in capsys.readouterr().err


def test_a_corpus_build_probes_one_pool(stand_ins):
    stand_ins.replay("config_eq", aquery="corpus.txt")
    assert stand_ins.check("build", "--config=remote-exec", "//corpus:transformers") == 0
    assert [properties_of(p["argv"]) for p in stand_ins.probes()] == [HOST]


def test_an_ambiguous_command_line_is_split_by_bazel(stand_ins, monkeypatch):
    stand_ins.replay("config_space", aquery="corpus.txt")
    monkeypatch.setenv("FAKE_RESIDUE", "//corpus:transformers")
    assert stand_ins.check("build", "--config", "remote-exec", "//corpus:transformers") == 0
    canonicalize, build, aquery, _ = stand_ins.bazel_calls()
    assert canonicalize[1:] == [
        "canonicalize-flags",
        "--for_command=build",
        "--",
        "--config",
        "remote-exec",
        "//corpus:transformers",
    ]
    assert build[2:4] == ["--config", "remote-exec"] and "//corpus:transformers" not in build
    assert aquery[-1] == 'deps("//corpus:transformers")'


def test_test_only_options_are_left_out_of_the_queries(stand_ins):
    stand_ins.replay("rc_bare", aquery="corpus.txt")
    assert stand_ins.check("test", "--test_summary=short", f"--remote_executor={EXECUTOR}", "//corpus:all") == 0
    commands = [call[1] for call in stand_ins.bazel_calls()]
    assert commands == ["test", "aquery", "aquery", "cquery"]
    test, refused, aquery, cquery = stand_ins.bazel_calls()
    assert "--test_summary=short" in test and "--test_summary=short" in refused
    assert "--test_summary=short" not in aquery and "--test_summary=short" not in cquery
    assert f"--remote_executor={EXECUTOR}" in aquery and f"--remote_executor={EXECUTOR}" in cquery
    assert len(stand_ins.probes()) == 1


def test_an_rc_file_that_asks_for_remote_execution_is_checked(stand_ins):
    (stand_ins.workspace / "user.bazelrc").write_text("build --config=remote-exec\n")
    stand_ins.replay("rc_config", aquery="corpus.txt")
    assert stand_ins.check("build", "//corpus:transformers") == 0
    assert len(stand_ins.probes()) == 1


def test_a_job_no_worker_takes_stops_the_build(stand_ins, monkeypatch, capsys):
    stand_ins.replay("bare_executor")
    monkeypatch.setenv("FAKE_BGD_REFUSE", "gpu_compat")
    started = time.monotonic()
    assert stand_ins.check("build", f"--remote_executor={EXECUTOR}", "//fleet:x", timeout=1) == 2
    assert time.monotonic() - started < 15
    err = capsys.readouterr().err
    assert (
        "no worker started a job needing {OSFamily=linux, arch=x86_64, gpu_compat=ampere_plus, tensorrt=10.13}" in err
    )
    assert "KILN_NO_PREFLIGHT=1" in err


def test_credentials_and_tls_reach_bgd(stand_ins):
    bep = (TESTDATA / "options" / "auth.jsonl").read_text().replace('"--remote_exec_header=x-extra=1"', '"--jobs=2"')
    stand_ins.replay("auth", aquery="corpus.txt")
    (stand_ins.data / "bep.jsonl").write_text(bep)
    assert stand_ins.check("build", "--config=remote-exec", "--remote_instance_name=kiln", "//corpus:transformers") == 0
    (probe,) = stand_ins.probes()
    argv = probe["argv"]
    assert argv[argv.index("--remote") + 1] == "grpcs://127.0.0.1:8980"
    assert argv[argv.index("--instance-name") + 1] == "kiln"
    assert argv[argv.index("--server-cert") + 1] == "/certs/ca.pem"
    assert argv[argv.index("--client-cert") + 1] == "/certs/client.pem"
    assert argv[argv.index("--client-key") + 1] == "/certs/client.key"
    assert argv[argv.index("--remote-cas") + 1] == EXECUTOR
    assert probe["token"] == TOKEN + "\n"
    assert probe["token_mode"] == oct(0o600)


def test_a_header_bgd_cannot_send_stops_the_build_before_any_probe(stand_ins, capsys):
    stand_ins.replay("auth")
    assert stand_ins.check("build", "--config=remote-exec", "--remote_exec_header=x-extra=1", "//fleet:x") == 2
    assert stand_ins.probes() == []
    assert [call[1] for call in stand_ins.bazel_calls()] == ["build"]  # no aquery either
    err = capsys.readouterr().err
    assert "cannot check grpcs://127.0.0.1:8980" in err and "'x-extra'" in err and "KILN_NO_PREFLIGHT=1" in err


def test_a_remote_build_of_nothing_probes_nothing(stand_ins):
    stand_ins.replay("config_eq")
    assert stand_ins.check("build", "--config=remote-exec") == 0
    assert [call[1] for call in stand_ins.bazel_calls()] == ["build"]
    assert stand_ins.probes() == []


def test_options_bazel_does_not_report_leave_the_build_unchecked(stand_ins, capsys):
    (stand_ins.data / "bep.jsonl").write_text("")
    assert stand_ins.check("build", "--config=remote-exec", "//x") == 0
    assert "not checked" in capsys.readouterr().err


def test_the_standalone_probe(stand_ins, capsys):
    assert preflight.main(["probe", "--executor", EXECUTOR, "--properties", "OSFamily=linux,arch=x86_64"]) == 0
    assert [properties_of(p["argv"]) for p in stand_ins.probes()] == [HOST]
    assert preflight.main(["probe", "--executor", EXECUTOR, "--properties", "x", "--remote-header", "a=b"]) == 2


def test_the_check_entry_point(stand_ins):
    assert preflight.main(["check", "--bazel", str(stand_ins.bazel), "--", "version"]) == 0
    assert os.environ["KILN_PREFLIGHT_BGD"]


def test_a_fault_of_the_guards_own_warns_and_lets_the_build_run(monkeypatch, capsys):
    def broken(*_args, **_kwargs):
        raise RuntimeError("unexpected rc syntax")

    monkeypatch.setattr(preflight, "check", broken)
    assert preflight.main(["check", "--bazel", "bazel", "--", "build", "//..."]) == 0
    err = capsys.readouterr().err
    assert "could not check this command (RuntimeError: unexpected rc syntax)" in err
    assert err.count("\n") == 1 and "Traceback" not in err
