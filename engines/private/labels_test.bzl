"""Unit tests of labels.bzl: the label texts engines record are the same in every workspace."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load(":labels.bzl", "label_text", "target_name")

def _label_text_test_impl(ctx):
    env = unittest.begin(ctx)

    # As a dependency: kiln and @kiln_devices have canonical names, the user's repository none.
    dependency = {"devices_repo": "kiln~~hardware~kiln_devices", "kiln_repo": "kiln~"}
    asserts.equals(env, "@kiln//platforms:host", label_text(Label("@@kiln~//platforms:host"), **dependency))
    asserts.equals(env, "@kiln//platforms/class:x86_64_ort1.32", label_text(Label("@@kiln~//platforms/class:x86_64_ort1.32"), **dependency))
    asserts.equals(env, "@kiln_devices//:orin_nx", label_text(Label("@@kiln~~hardware~kiln_devices//:orin_nx"), **dependency))
    asserts.equals(env, "//hw:l4", label_text(Label("@@//hw:l4"), **dependency))
    asserts.equals(env, "@@other~//hw:l4", label_text(Label("@@other~//hw:l4"), **dependency))

    # As the root module: the same texts for kiln's labels and for the devices.
    root = {"devices_repo": "_main~hardware~kiln_devices", "kiln_repo": ""}
    asserts.equals(env, "@kiln//platforms:host", label_text(Label("@@//platforms:host"), **root))
    asserts.equals(env, "@kiln_devices//:orin_nx", label_text(Label("@@_main~hardware~kiln_devices//:orin_nx"), **root))

    # And with this build's own repository names.
    asserts.equals(env, "@kiln//platforms:host", label_text(Label("//platforms:host")))
    asserts.equals(env, "@kiln_devices//:any", label_text(Label("@kiln_devices//:any")))
    return unittest.end(env)

label_text_test = unittest.make(_label_text_test_impl)

def _target_name_test_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "fleet.mlp.x86_64_ort1.32", target_name("//fleet:fleet.mlp.x86_64_ort1.32"))
    asserts.equals(env, "edge.mlp.sm80+_trt10.13", target_name("@kiln//fleet:edge.mlp.sm80+_trt10.13"))
    return unittest.end(env)

target_name_test = unittest.make(_target_name_test_impl)

def labels_test_suite(name):
    unittest.suite(name, label_text_test, target_name_test)
