# CoinGlass Liquidation Map: Apify actor image.
FROM apify/actor-python:3.13

USER myuser

# Dependencies first, so this layer is rebuilt only when pyproject.toml changes.
# They are read from pyproject.toml's [project].dependencies: one list, no copy to drift.
COPY --chown=myuser:myuser pyproject.toml ./
RUN echo "Python version:" && python --version \
 && echo "Pip version:" && pip --version \
 && echo "Installing dependencies:" \
 && python -c "import pathlib, subprocess, sys, tomllib; deps = tomllib.loads(pathlib.Path('pyproject.toml').read_text(encoding='utf-8'))['project']['dependencies']; assert deps, 'pyproject.toml declares no dependencies'; subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--no-cache-dir', *deps])" \
 && echo "All installed Python packages:" && pip freeze

COPY --chown=myuser:myuser coinglass_liquidation_map ./coinglass_liquidation_map

# Fail the build on a syntax error, and start faster.
RUN python -m compileall -q coinglass_liquidation_map/

# matplotlib's font cache, built once here rather than in every run that draws a chart.
RUN python -c "import matplotlib.font_manager"

CMD ["python", "-m", "coinglass_liquidation_map"]
