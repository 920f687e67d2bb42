# The runner image: `payments serve` by default (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY runner ./runner
COPY db ./db
RUN pip install --no-cache-dir -e . \
 && useradd --system --home /app payments
USER payments
ENV PAYMENTS_HOST=0.0.0.0 \
    PAYMENTS_PORT=8080 \
    PYTHONUNBUFFERED=1
EXPOSE 8080
CMD ["payments", "serve"]
