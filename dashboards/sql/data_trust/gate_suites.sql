select suite, severity, suite_passed, expectations_passed, expectations_evaluated
from bi.trust_gate_suites
order by suite_passed, severity, suite
