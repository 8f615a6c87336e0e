"""Unit tests of profiles.bzl: what users write for profiles and workspace sizes."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load(":profiles.bzl", "parse_profiles", "parse_workspace")

def _problem(env, result, fragment):
    value, problem = result
    asserts.equals(env, None, value)
    asserts.true(env, fragment in (problem or ""), "expected '%s' in '%s'" % (fragment, problem))

def _parse_profiles_test_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(
        env,
        ([{"input": {"max": [32, 64], "min": [1, 64], "opt": [8, 64]}}], None),
        parse_profiles(["input:1x64:8x64:32x64"]),
    )

    # Several inputs in one profile (spaces between them, extra ones ignored), several profiles.
    parsed, problem = parse_profiles(["ids:1x8:4x8:8x8  mask:1x8:4x8:8x8", "ids:1x128:1x128:1x128 mask:1x128:1x128:1x128"])
    asserts.equals(env, None, problem)
    asserts.equals(env, 2, len(parsed))
    asserts.equals(env, ["ids", "mask"], sorted(parsed[0]))
    asserts.equals(env, [], parse_profiles([])[0])

    _problem(env, parse_profiles(["input:1x64:8x64"]), "profiles[0] 'input:1x64:8x64': expected <input>:<min>:<opt>:<max>")
    _problem(env, parse_profiles([":1x64:8x64:32x64"]), "expected <input>:<min>:<opt>:<max>")
    _problem(env, parse_profiles(["input:1x64:8x64:32xN"]), "'32xN' is not a shape like 1x3x224x224")
    _problem(env, parse_profiles(["input:1x64:8x64:-1x64"]), "'-1x64' is not a shape")
    _problem(env, parse_profiles(["input:1x64:8x64x1:32x64"]), "min, opt and max have different ranks")
    _problem(env, parse_profiles(["input:64x64:8x64:32x64"]), "axis 0 needs min <= opt <= max, got 64, 8, 32")
    _problem(env, parse_profiles(["input:1x64:8x64:32x64", "a:1:1:1 a:1:1:1"]), "profiles[1] 'a:1:1:1': input 'a' appears twice")
    _problem(env, parse_profiles(["  "]), "profiles[0] is empty")
    return unittest.end(env)

parse_profiles_test = unittest.make(_parse_profiles_test_impl)

def _parse_workspace_test_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, (1024, None), parse_workspace("1024"))
    asserts.equals(env, (512, None), parse_workspace("512B"))
    asserts.equals(env, (2 << 10, None), parse_workspace("2KiB"))
    asserts.equals(env, (512 << 20, None), parse_workspace("512MiB"))
    asserts.equals(env, (4 << 30, None), parse_workspace("4GiB"))
    for text in ("4GB", "4 GiB", "GiB", "-1", "1.5GiB", ""):
        _problem(env, parse_workspace(text), "workspace '%s': give bytes or a size like 512MiB / 4GiB" % text)
    return unittest.end(env)

parse_workspace_test = unittest.make(_parse_workspace_test_impl)

def profiles_test_suite(name):
    unittest.suite(name, parse_profiles_test, parse_workspace_test)
