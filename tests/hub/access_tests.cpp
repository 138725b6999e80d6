// Tokens: sent as Bearer to the endpoint only, never across hosts; public, private, gated repos;
// invalid tokens; whoami. The mirror answers with the Hub's status codes and error headers.
#include <doctest/doctest.h>

#include "mirror_fixture.hpp"

using namespace llmhost;
using hubtest::Mirror;
namespace fs = std::filesystem;

TEST_CASE("no token: no Authorization header on any request") {
    Mirror m;
    hub::Client client(m.options());
    client.snapshot_download("org/public-model");
    auto all = m.requests();
    REQUIRE(all.size() > 4);
    for (const auto &r : all) CHECK_FALSE(r.had_authorization);
}

TEST_CASE("token present: sent to the endpoint, dropped on the LFS redirect to another host") {
    Mirror m("localhost"); // LFS 302s point at http://localhost:<port>: another origin
    hub::Client client(m.options(hubtest::kAlice));
    fs::path snap = client.snapshot_download("org/public-model");
    CHECK(hubtest::read_file(snap / "model.safetensors") == m.weights);
    auto lfs = m.requests_for("/_lfs/");
    REQUIRE_FALSE(lfs.empty());
    for (const auto &r : lfs) CHECK_FALSE(r.had_authorization);
    std::size_t endpoint_requests = 0;
    for (const auto &r : m.requests()) {
        if (r.target.find("/_lfs/") != std::string::npos) continue;
        ++endpoint_requests;
        CHECK(r.had_authorization);
        CHECK(r.token_name == "alice");
    }
    CHECK(endpoint_requests >= 4); // repo info, tree pages, HEADs, small GETs
}

TEST_CASE("private repo: no token, ungranted token, granted token") {
    Mirror m;
    {
        hub::Client anon(m.options());
        auto e = hubtest::expect_error([&] { anon.snapshot_download("org/private-model"); });
        CHECK(e.code() == LLMH_ERR_AUTH_REQUIRED);
        CHECK(e.http_status() == 401);
        CHECK(std::string(e.what()).find("org/private-model") != std::string::npos);
        CHECK(e.hint().find("HF_TOKEN") != std::string::npos);
        CHECK(e.hint().find("https://huggingface.co/settings/tokens") != std::string::npos);
    }
    {
        hub::Client bob(m.options(hubtest::kBob));
        auto e = hubtest::expect_error([&] { bob.snapshot_download("org/private-model"); });
        CHECK(e.code() == LLMH_ERR_NOT_FOUND);
        CHECK(e.http_status() == 404);
        CHECK(std::string(e.what()).find(hubtest::kBob) == std::string::npos);
        CHECK(e.hint().find(hubtest::kBob) == std::string::npos);
    }
    hub::Client alice(m.options(hubtest::kAlice));
    CHECK(hubtest::read_file(alice.snapshot_download("org/private-model") / "config.json") == m.config);
}

TEST_CASE("gated repo: license hint without a token, grant hint with an ungranted one") {
    Mirror m;
    const std::string license_url = m.server->endpoint() + "/org/gated-model";
    {
        hub::Client anon(m.options());
        auto e = hubtest::expect_error([&] { anon.snapshot_download("org/gated-model"); });
        CHECK(e.code() == LLMH_ERR_AUTH_REQUIRED);
        CHECK(std::string(e.what()).find("gated") != std::string::npos);
        CHECK(e.hint().find("accept the license at " + license_url) != std::string::npos);
        CHECK(e.hint().find("HF_TOKEN") != std::string::npos);
    }
    {
        hub::Client bob(m.options(hubtest::kBob));
        auto e = hubtest::expect_error([&] { bob.hf_hub_download("org/gated-model", "config.json"); });
        CHECK(e.code() == LLMH_ERR_GATED);
        CHECK(e.http_status() == 403);
        CHECK(e.hint().find("accept the license at " + license_url) != std::string::npos);
        CHECK(e.hint().find("granted") != std::string::npos);
    }
    hub::Client alice(m.options(hubtest::kAlice));
    CHECK(fs::exists(alice.snapshot_download("org/gated-model") / "model.safetensors"));
}

TEST_CASE("invalid token: auth_invalid, and the token never appears in the error") {
    Mirror m;
    const std::string bad = "hf_this-token-is-not-known-to-the-mirror-42";
    hub::Client client(m.options(bad));
    auto e = hubtest::expect_error([&] { client.snapshot_download("org/public-model"); });
    CHECK(e.code() == LLMH_ERR_AUTH_INVALID);
    CHECK(e.http_status() == 401);
    CHECK(std::string(e.what()).find(bad) == std::string::npos);
    CHECK(e.hint().find(bad) == std::string::npos);
    CHECK(e.hint().find("settings/tokens") != std::string::npos);
}

TEST_CASE("whoami: user and role, never the token - errors without or with a bad token") {
    Mirror m;
    hub::Client alice(m.options(hubtest::kAlice));
    auto w = alice.whoami();
    CHECK(w.name == "alice");
    CHECK(w.token_role == "read");
    CHECK(w.token_name == "alice");
    hub::Client anon(m.options());
    CHECK(hubtest::expect_error([&] { anon.whoami(); }).code() == LLMH_ERR_AUTH_REQUIRED);
    hub::Client bad(m.options(std::string("hf_wrongwrongwrong")));
    CHECK(hubtest::expect_error([&] { bad.whoami(); }).code() == LLMH_ERR_AUTH_INVALID);
    // Nothing was sent without a token: every whoami the server saw carried one (the server logs
    // a request when its response is complete, so records are checked after the last call).
    auto seen = m.requests_for("whoami");
    CHECK_FALSE(seen.empty());
    for (const auto &r : seen) CHECK(r.had_authorization);
}
