package dev.tether.jwt.internal;

import dev.tether.jwt.KeySetSettings;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Fetches small JSON documents (key sets, discovery documents) with the JDK's HTTP client: the JDK's
 * trust store unless a TLS context is configured, host names always verified, redirects followed
 * except from {@code https} to {@code http}, every request bounded in time and size. Blocking:
 * callers are verifications, which are blocking already.
 */
final class HttpDocumentFetcher {

    private final HttpClient client;
    private final KeySetSettings settings;

    /**
     * @param settings bounds and TLS trust
     */
    public HttpDocumentFetcher(KeySetSettings settings) {
        this.settings = settings;
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(settings.httpTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL);
        settings.sslContext().ifPresent(b::sslContext);
        this.client = b.build();
    }

    /**
     * @param uri  what to fetch
     * @param what a description for messages, e.g. "the JWK set"
     * @return the body as text
     * @throws IOException with a message naming the URI and what went wrong
     */
    public String fetch(URI uri, String what) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(settings.httpTimeout())
                .header("Accept", "application/json, application/jwk-set+json")
                .GET()
                .build();
        HttpResponse<InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            throw new IOException(what + " at " + uri + " could not be fetched: no connection within "
                    + settings.httpTimeout().toMillis() + " ms (httpTimeout)", e);
        } catch (HttpTimeoutException e) {
            throw new IOException(what + " at " + uri + " could not be fetched: no answer within "
                    + settings.httpTimeout().toMillis() + " ms (httpTimeout)", e);
        } catch (ConnectException e) {
            throw new IOException(what + " at " + uri + " could not be fetched: connection refused or unreachable", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + " at " + uri + " could not be fetched: interrupted", e);
        } catch (IOException e) {
            throw new IOException(what + " at " + uri + " could not be fetched: " + e, e);
        }
        try (InputStream in = response.body()) {
            int status = response.statusCode();
            byte[] body = readBounded(in, settings.maxResponseBytes() + 1);
            if (status < 200 || status > 299) {
                throw new IOException(what + " at " + uri + " could not be fetched: HTTP " + status);
            }
            if (body.length > settings.maxResponseBytes()) {
                throw new IOException(what + " at " + uri + " is larger than " + settings.maxResponseBytes()
                        + " bytes (maxResponseBytes)");
            }
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private static byte[] readBounded(InputStream in, int limit) throws IOException {
        byte[] buf = new byte[Math.min(limit, 8192)];
        int n = 0;
        while (n < limit) {
            if (n == buf.length) {
                buf = Arrays.copyOf(buf, Math.min(limit, buf.length * 2));
            }
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        return Arrays.copyOf(buf, n);
    }
}
