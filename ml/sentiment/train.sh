#!/usr/bin/env bash
# Trains the news sentiment model (ml/sentiment/README.md). Needs Python 3 with scikit-learn
# (Debian: apt-get install -y python3-sklearn); news-ingest needs none of it at run time.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0 OMP_NUM_THREADS=1
for candidate in ${ML_PYTHON:-} python3 /usr/bin/python3; do
  if "$candidate" -c 'import sklearn, numpy' 2>/dev/null; then
    exec "$candidate" ml/sentiment/train.py "$@"
  fi
done
echo "needs Python 3 with scikit-learn (Debian: apt-get install -y python3-sklearn), or ML_PYTHON=/path/to/python" >&2
exit 1
