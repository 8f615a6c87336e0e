"""oci_image and oci_push, with rules_oci's names and attributes.

A team that can fetch rules_oci swaps by changing the load statement to
`@rules_oci//oci:defs.bzl` (and giving oci_image a `base` if it wants one); the
attributes used here mean the same there. Images are data-only (no base image):
the layers are `pkg_tar` outputs, assembled into an OCI image layout by a
hermetic, reproducible action (oci/image.py); pushing runs `crane` (oci/push.py).
"""

load("//oci/private:oci_image.bzl", _oci_image = "oci_image")
load("//oci/private:oci_push.bzl", _oci_push = "oci_push")

oci_image = _oci_image
oci_push = _oci_push
