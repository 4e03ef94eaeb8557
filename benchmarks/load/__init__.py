"""Load and fault tests of the production server (`make load`, `make fault`): see README.md.

Outside `make test`: they start `deploy/serve.sh` (the server of `make serve LOCAL=1`) on
PostgreSQL and drive it with locust, headless, as logins they create for themselves.

- `mix`: who the simulated users are and what they do, in what proportions (plain data);
- `workload`: what one simulated user does, request by request, through any HTTP client
  (locust's in `locustfile`, Django's test client in `benchmarks/tests/test_load.py`);
  neither Django nor locust is imported by it;
- `setup`: the logins and the plan the users follow, made in the database under test;
- `server`: starting and stopping the server, its port and its gunicorn workers;
- `stats`: reading locust's statistics into the figures and writing them into README.md;
- `checks`: what the database must hold after the load (every saved visit, no half-written
  one);
- `run`: the load test; `fault`: the fault test on a PostgreSQL cluster of its own.
"""
