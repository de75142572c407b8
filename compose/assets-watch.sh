# The dev stack's CSS (compose/dev.yaml, service `assets`): Tailwind's watcher in
# the node image, run from /frontend (the checkout's frontend/, with its own
# node_modules volume). Rebuilds /assets/app.css when a template or frontend/ changes.
set -eu

# Behind a TLS-intercepting proxy: its CA (BUILD_CA_BUNDLE, mounted as a secret).
if [ -s /run/secrets/ca ]; then
    export NODE_EXTRA_CA_CERTS=/run/secrets/ca
fi

# node_modules is a volume that outlives the container: install only when it
# does not hold what package-lock.json pins (npm ci empties it first).
if ! cmp -s package-lock.json node_modules/.installed-package-lock.json; then
    echo "assets: npm ci (package-lock.json changed or first start)"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.installed-package-lock.json
fi

# A CSS left by an earlier run must not make this one look healthy.
rm -f /assets/app.css
# `always`: keep watching although compose gives the service no stdin.
exec node_modules/.bin/tailwindcss --input app.css --output /assets/app.css --watch=always
