# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=build python manage.py collectstatic --noinput
# A fixed numeric user: Kubernetes' runAsNonRoot can verify it (deploy/ runs it as 10001).
RUN useradd --create-home --uid 10001 pods && chown -R pods /app
USER 10001
EXPOSE 8000
# The web server (pods_project/serve.py): granian, 2 processes x 16 threads, on port 8000.
CMD ["python", "-m", "pods_project.serve"]
