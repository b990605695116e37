package dev.tether.spring.boot.internal;

import dev.tether.core.CredentialsProvider;
import dev.tether.jwt.ClientCredentials;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.TokenMapping;
import dev.tether.spring.boot.InvalidTetherPropertyException;
import dev.tether.spring.boot.TetherProperties;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Locale;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;

/** Builds a JWT credentials source from {@code <prefix>.jwt.*}. */
final class Credentials {

    private static final String ALGORITHMS = "HS256 (with secret), RS256 or ES256 (with key-location)";

    private Credentials() {
    }

    /**
     * @param prefix  the client's property prefix, e.g. {@code tether.mqtt.clients.telemetry}
     * @param jwt     the settings
     * @param mapping how the token is presented
     * @param name    the source's name in logs
     * @param loader  resolves {@code key-location}
     * @return the credentials source
     */
    static CredentialsProvider jwt(String prefix, TetherProperties.Jwt jwt, TokenMapping mapping, String name,
                                   ResourceLoader loader) {
        String p = prefix + ".jwt";
        JwtCredentialsProvider.Builder b = JwtCredentialsProvider.builder().mapping(mapping).name(name);
        Check.apply(p + ".refresh-skew", jwt.refreshSkew(), () -> b.refreshSkew(jwt.refreshSkew()));
        TetherProperties.TokenEndpoint endpoint = jwt.tokenEndpoint();
        boolean signs = jwt.algorithm() != null || jwt.secret() != null || jwt.keyLocation() != null;
        if (endpoint != null) {
            if (signs) {
                throw new InvalidTetherPropertyException(p + ".token-endpoint.uri", String.valueOf(endpoint.uri()),
                        "either sign tokens here (" + p + ".algorithm with secret or key-location) or fetch them from a "
                                + "token endpoint (" + p + ".token-endpoint.*), not both");
            }
            b.tokenEndpoint(clientCredentials(p + ".token-endpoint", endpoint));
            return b.build();
        }
        String algorithm = jwt.algorithm();
        if (algorithm == null) {
            throw Check.missing(p + ".algorithm", ALGORITHMS + ", or set " + p + ".token-endpoint.uri to fetch tokens");
        }
        JwtSigner.Builder s = JwtSigner.builder();
        switch (algorithm.toUpperCase(Locale.ROOT)) {
            case "HS256" -> {
                String secret = jwt.secret();
                if (secret == null || secret.isEmpty()) {
                    throw Check.missing(p + ".secret", "HS256 signs with a shared secret of at least 32 bytes");
                }
                if (jwt.keyLocation() != null) {
                    throw new InvalidTetherPropertyException(p + ".key-location", String.valueOf(jwt.keyLocation()),
                            "HS256 signs with " + p + ".secret; a key location is for RS256 or ES256");
                }
                Check.apply(p + ".secret", "****", () -> s.hs256(secret.getBytes(StandardCharsets.UTF_8)));
            }
            case "RS256", "ES256" -> {
                String location = jwt.keyLocation();
                if (location == null || location.isBlank()) {
                    throw Check.missing(p + ".key-location", algorithm.toUpperCase(Locale.ROOT)
                            + " signs with a private key: a PKCS#8 PEM file (classpath:, file: or a path)");
                }
                if (jwt.secret() != null) {
                    throw new InvalidTetherPropertyException(p + ".secret", "****", algorithm.toUpperCase(Locale.ROOT)
                            + " signs with " + p + ".key-location; a secret is for HS256 only");
                }
                boolean rsa = algorithm.equalsIgnoreCase("RS256");
                PrivateKey key = readKey(p + ".key-location", location, rsa ? "RSA" : "EC", loader);
                if (rsa) {
                    if (!(key instanceof RSAPrivateKey rk)) {
                        throw new InvalidTetherPropertyException(p + ".key-location", location, "RS256 needs an RSA key");
                    }
                    Check.apply(p + ".key-location", location, () -> s.rs256(rk));
                } else {
                    if (!(key instanceof ECPrivateKey ek)) {
                        throw new InvalidTetherPropertyException(p + ".key-location", location, "ES256 needs an EC P-256 key");
                    }
                    Check.apply(p + ".key-location", location, () -> s.es256(ek));
                }
            }
            default -> throw new InvalidTetherPropertyException(p + ".algorithm", algorithm, ALGORITHMS);
        }
        String keyId = jwt.keyId();
        if (keyId != null) {
            Check.apply(p + ".key-id", keyId, () -> s.keyId(keyId));
        }
        String issuer = jwt.issuer();
        if (issuer != null) {
            Check.apply(p + ".issuer", issuer, () -> s.issuer(issuer));
        }
        String subject = jwt.subject();
        if (subject != null) {
            Check.apply(p + ".subject", subject, () -> s.subject(subject));
        }
        if (!jwt.audience().isEmpty()) {
            Check.apply(p + ".audience", jwt.audience(), () -> s.audience(jwt.audience().toArray(String[]::new)));
        }
        Check.apply(p + ".lifetime", jwt.lifetime(), () -> s.lifetime(jwt.lifetime()));
        return b.selfSigned(Check.get(p + ".algorithm", algorithm, s::build)).build();
    }

    private static ClientCredentials clientCredentials(String p, TetherProperties.TokenEndpoint e) {
        String uri = e.uri();
        String clientId = e.clientId();
        String clientSecret = e.clientSecret();
        if (uri == null || uri.isBlank()) {
            throw Check.missing(p + ".uri", "the OAuth2 token endpoint, e.g. https://issuer.example/oauth2/token");
        }
        if (clientId == null || clientId.isBlank()) {
            throw Check.missing(p + ".client-id", "the OAuth2 client id");
        }
        if (clientSecret == null || clientSecret.isEmpty()) {
            throw Check.missing(p + ".client-secret", "the OAuth2 client secret");
        }
        ClientCredentials.Builder b = ClientCredentials.builder();
        Check.apply(p + ".uri", uri, () -> b.tokenUri(uri));
        Check.apply(p + ".client-id", clientId, () -> b.clientId(clientId));
        Check.apply(p + ".client-secret", "****", () -> b.clientSecret(clientSecret));
        if (!e.scopes().isEmpty()) {
            Check.apply(p + ".scopes", e.scopes(), () -> b.scope(e.scopes().toArray(String[]::new)));
        }
        return Check.get(p + ".uri", uri, b::build);
    }

    private static PrivateKey readKey(String property, String location, String type, ResourceLoader loader) {
        Resource r = loader.getResource(location.contains(":") ? location : "file:" + location);
        String pem;
        try (InputStream in = r.getInputStream()) {
            pem = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new InvalidTetherPropertyException(property, location, "a readable PKCS#8 PEM file; reading it failed: " + e);
        }
        if (!pem.contains("-----BEGIN PRIVATE KEY-----")) {
            throw new InvalidTetherPropertyException(property, location, "a PKCS#8 PEM file (-----BEGIN PRIVATE KEY-----); "
                    + "convert others with: openssl pkcs8 -topk8 -nocrypt -in key.pem");
        }
        String body = pem.substring(pem.indexOf("-----BEGIN PRIVATE KEY-----") + 27);
        int end = body.indexOf("-----END PRIVATE KEY-----");
        if (end < 0) {
            throw new InvalidTetherPropertyException(property, location, "a complete PEM block ending with -----END PRIVATE KEY-----");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(body.substring(0, end));
            return KeyFactory.getInstance(type).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new InvalidTetherPropertyException(property, location, "an unencrypted PKCS#8 " + type + " private key; "
                    + "this one could not be read: " + e.getMessage());
        }
    }
}
