package dev.tether.jwt.internal;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.tether.jwt.ClientCredentials;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Obtains tokens from an OAuth2 token endpoint with the client-credentials grant, over Reactor
 * Netty's HTTP client.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class TokenEndpointSource implements TokenSource {

    private final ClientCredentials config;
    private final HttpClient client;
    private final String form;

    /**
     * @param config where and how to ask
     */
    public TokenEndpointSource(ClientCredentials config) {
        this.config = config;
        HttpClient base = config.httpClient().orElseGet(HttpClient::create);
        int connectMillis = (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis());
        this.client = base.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis)
                .responseTimeout(config.timeout())
                .headers(h -> {
                    h.set(HttpHeaderNames.CONTENT_TYPE, "application/x-www-form-urlencoded");
                    h.set(HttpHeaderNames.ACCEPT, "application/json");
                    if (config.authentication() == ClientCredentials.Authentication.CLIENT_SECRET_BASIC) {
                        String pair = encode(config.clientId()) + ":" + encode(config.clientSecret());
                        h.set(HttpHeaderNames.AUTHORIZATION,
                                "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
                    }
                });
        Map<String, String> params = new LinkedHashMap<>();
        params.put("grant_type", "client_credentials");
        if (!config.scopes().isEmpty()) {
            params.put("scope", String.join(" ", config.scopes()));
        }
        params.putAll(config.parameters());
        if (config.authentication() == ClientCredentials.Authentication.CLIENT_SECRET_POST) {
            params.put("client_id", config.clientId());
            params.put("client_secret", config.clientSecret());
        }
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "&").append(encode(k)).append('=').append(encode(v)));
        this.form = sb.toString();
    }

    @Override
    public Mono<String> fetch(Instant now) {
        int max = config.maxResponseBytes();
        return client.post()
                .uri(config.tokenUri())
                .send(ByteBufFlux.fromString(Mono.just(form)))
                .response((res, body) -> body.asByteArray()
                        .reduce(new ByteArrayOutputStream(), (acc, chunk) -> {
                            if (acc.size() + chunk.length > max) {
                                throw new TooLargeException();
                            }
                            acc.write(chunk, 0, chunk.length);
                            return acc;
                        })
                        .onErrorMap(TooLargeException.class, e -> new TokenFetchException(description()
                                + " answered with more than " + max + " bytes (maxResponseBytes)", res.status().code(), false))
                        .<String>handle((bytes, sink) -> {
                            try {
                                sink.next(interpret(res.status().code(), res.responseHeaders().get(HttpHeaderNames.RETRY_AFTER),
                                        bytes.toString(StandardCharsets.UTF_8)));
                            } catch (TokenFetchException e) {
                                sink.error(e);
                            }
                        }))
                .next()
                .timeout(config.timeout(), Mono.error(() -> new TimeoutException(description() + " did not answer within "
                        + config.timeout().toMillis() + " ms (timeout)")));
    }

    private String interpret(int status, @Nullable String retryAfterHeader, String body) throws TokenFetchException {
        Map<String, Object> json = null;
        try {
            json = JSONObjectUtils.parse(body);
        } catch (java.text.ParseException | RuntimeException e) {
            // not JSON: handled below
        }
        if (status >= 200 && status < 300) {
            if (json == null) {
                throw new TokenFetchException(description() + " answered HTTP " + status + " with a body that is not a JSON object",
                        status, false);
            }
            Object token = json.get("access_token");
            if (!(token instanceof String s) || s.isBlank()) {
                throw new TokenFetchException(description() + " answered HTTP " + status + " without an access_token", status, false);
            }
            Object type = json.get("token_type");
            if (type instanceof String t && !t.equalsIgnoreCase("bearer")) {
                throw new TokenFetchException(description() + " issued a token of type '" + printable(t)
                        + "'; only Bearer tokens can be presented", status, true);
            }
            return s;
        }
        String error = json != null && json.get("error") instanceof String e ? " (error: " + printable(e) + ")" : "";
        boolean permanent = (status == 400 || status == 401 || status == 403)
                && !error.contains("temporarily_unavailable") && !error.contains("server_error");
        String advice = permanent ? ": check the client id, client secret and scope" : "";
        Duration retryAfter = (status == 429 || status == 503) ? parseRetryAfter(retryAfterHeader) : null;
        String wait = retryAfter == null ? "" : " and asked to wait " + retryAfter.toSeconds() + " s (Retry-After)";
        throw new TokenFetchException(description() + " answered HTTP " + status + error + wait + advice, status, permanent, retryAfter);
    }

    /** Reads a {@code Retry-After} given in seconds (an HTTP date is ignored); capped at one hour. */
    static @Nullable Duration parseRetryAfter(@Nullable String header) {
        if (header == null) {
            return null;
        }
        String v = header.trim();
        if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return Duration.ofSeconds(Math.min(Long.parseLong(v), 3600));
    }

    @Override
    public String description() {
        return "token endpoint " + config.tokenUri() + " (client " + config.clientId() + ")";
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String printable(String untrusted) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(untrusted.length(), 64); i++) {
            char c = untrusted.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }

    /** Signals an over-long answer out of the reducer. */
    private static final class TooLargeException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TooLargeException() {
            super(null, null, false, false);
        }
    }
}
