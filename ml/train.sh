#!/usr/bin/env bash
# npm run ml:train. Needs Python 3 with scikit-learn, XGBoost, pandas and numpy (on Debian:
# apt-get install python3-sklearn python3-xgboost python3-pandas). Only training needs them:
# serving reads the committed artefacts from TypeScript. ML_PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0 OMP_NUM_THREADS=1
for candidate in ${ML_PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c 'import sklearn, xgboost, pandas, numpy, scipy' 2>/dev/null; then
    exec "$candidate" ml/pipeline/train.py "$@"
  fi
done
echo "ml:train needs Python 3 with scikit-learn, xgboost, pandas, numpy and scipy (Debian: apt-get install -y python3-sklearn python3-xgboost python3-pandas), or ML_PYTHON=/path/to/python" >&2
exit 1
