package dev.tether.testkit;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.settings.OAuth2TokenFormat;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;

import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real OAuth2 authorization server for the tests: Spring Authorization Server under Spring Boot,
 * on Tomcat, bound to 127.0.0.1 on a free port. Two registered clients use the client-credentials
 * grant (one authenticates with HTTP Basic, one with form parameters) and get signed JWT access
 * tokens; the JWK set and the discovery documents are published as a real provider does. Keys rotate
 * as at a real identity provider: the next key is published and used for signing, the previous one
 * stays published until it is retired.
 *
 * <p>Needs Spring Authorization Server on the class path: the dependency is optional here, so a module
 * whose tests start this server declares {@code spring-boot-starter-oauth2-authorization-server} (test
 * scope) itself.
 */
public final class AuthorizationServer implements AutoCloseable {

    /** The client that authenticates with HTTP Basic ({@code client_secret_basic}). */
    public static final String BASIC_CLIENT = "sensor-basic";
    /** Its secret (a test fixture's, never a real one). */
    public static final String BASIC_SECRET = "basic-client-secret-7f3a9c";
    /** The client that authenticates with form parameters ({@code client_secret_post}). */
    public static final String POST_CLIENT = "sensor-post";
    /** Its secret (a test fixture's, never a real one). */
    public static final String POST_SECRET = "post-client-secret-b41d2e";
    /** The scope both clients may ask for. */
    public static final String SCOPE = "telemetry";

    private final Keys keys = new Keys();
    private final ConfigurableApplicationContext context;
    private final int port;

    /**
     * Starts the server.
     *
     * @param tokenLifetime the lifetime of every access token it issues
     */
    public AuthorizationServer(Duration tokenLifetime) {
        // Spring must not reconfigure the test JVM's logging (other tests capture log lines).
        System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
        context = new SpringApplicationBuilder(App.class)
                .properties("server.port=0", "server.address=127.0.0.1", "spring.main.banner-mode=off",
                        "spring.jmx.enabled=false", "spring.main.lazy-initialization=false")
                .initializers(ctx -> {
                    ctx.getBeanFactory().registerSingleton("rotatingKeys", keys);
                    ctx.getBeanFactory().registerSingleton("tokenLifetime", new TokenLifetime(tokenLifetime));
                })
                .run();
        port = Objects.requireNonNull(((WebServerApplicationContext) context).getWebServer(), "no web server started").getPort();
    }

    /** @return the issuer identifier (tokens carry it as {@code iss}; discovery is served under it) */
    public String issuer() {
        return "http://127.0.0.1:" + port;
    }

    /** @return the token endpoint */
    public String tokenUri() {
        return issuer() + "/oauth2/token";
    }

    /** @return the port it listens on, at 127.0.0.1 */
    public int port() {
        return port;
    }

    /** @return the key id tokens are signed with now */
    public String activeKeyId() {
        return keys.active.getKeyID();
    }

    /** @return the key ids published in the JWK set */
    public List<String> publishedKeyIds() {
        return keys.published.stream().map(JWK::getKeyID).toList();
    }

    /**
     * Publishes a new key and signs with it from now on; the old key stays published. The first
     * rotation uses a key generated with the server, so it costs no key generation (hundreds of ms of
     * CPU on a busy machine) at the moment of the rotation; later ones generate their key here.
     *
     * @return the new key's id
     */
    public synchronized String rotate() {
        RSAKey prepared = keys.upcoming;
        keys.upcoming = null;
        RSAKey next = prepared != null ? prepared : Keys.generate();
        List<RSAKey> list = new ArrayList<>(keys.published);
        list.add(next);
        keys.published = List.copyOf(list);
        keys.active = next;
        return next.getKeyID();
    }

    /**
     * Removes a key from the published set (the end of its grace period).
     *
     * @param kid the key's id
     */
    public synchronized void retire(String kid) {
        keys.published = keys.published.stream().filter(k -> !k.getKeyID().equals(kid)).toList();
    }

    /** @return how many times the JWK set was served */
    public int jwkSetRequests() {
        return keys.served.get();
    }

    @Override
    public void close() {
        context.close();
    }

    /** The signing key and the published keys, shared by the beans below. */
    static final class Keys {
        private static final AtomicInteger SERIAL = new AtomicInteger();
        volatile RSAKey active;
        volatile List<RSAKey> published;
        volatile @Nullable RSAKey upcoming;
        final AtomicInteger served = new AtomicInteger();

        Keys() {
            RSAKey first = generate();
            active = first;
            published = List.of(first);
            upcoming = generate();
        }

        static RSAKey generate() {
            try {
                return new RSAKeyGenerator(2048).keyUse(KeyUse.SIGNATURE).keyID("as-key-" + SERIAL.incrementAndGet()).generate();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    record TokenLifetime(Duration value) {
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {

        @Bean
        RegisteredClientRepository registeredClients(TokenLifetime lifetime) {
            TokenSettings tokens = TokenSettings.builder().accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                    .accessTokenTimeToLive(lifetime.value()).build();
            RegisteredClient basic = RegisteredClient.withId("1").clientId(BASIC_CLIENT).clientSecret("{noop}" + BASIC_SECRET)
                    .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                    .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS).scope(SCOPE).tokenSettings(tokens).build();
            RegisteredClient post = RegisteredClient.withId("2").clientId(POST_CLIENT).clientSecret("{noop}" + POST_SECRET)
                    .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_POST)
                    .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS).scope(SCOPE).tokenSettings(tokens).build();
            return new InMemoryRegisteredClientRepository(basic, post);
        }

        /** What the JWK Set endpoint publishes: every published key, public parts only. */
        @Bean
        JWKSource<SecurityContext> jwkSource(Keys keys) {
            return (selector, context) -> {
                keys.served.incrementAndGet();
                return selector.select(new JWKSet(new ArrayList<JWK>(keys.published)));
            };
        }

        /** What signs the tokens: the active key only. */
        @Bean
        JwtEncoder jwtEncoder(Keys keys) {
            return new NimbusJwtEncoder((selector, context) -> selector.select(new JWKSet(keys.active)));
        }
    }
}
