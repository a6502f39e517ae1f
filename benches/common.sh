# Sourced by the bench scripts: the modules, settings and requests they compare
# (each overridable from the environment), and the ratio they print.
RUNNER=${RUNNER:-target/runner/policy-runner}
OURS=${OURS:-policy.wasm}
BASELINE=${BASELINE:-target/floor.wasm}
SETTINGS=${SETTINGS:-policy-settings/default.yaml}
REQUESTS=${REQUESTS:-"pod-realistic pod-60-containers pod-realistic-excluded pod-kube-system deployment"}

# ratio A B -> A / B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
