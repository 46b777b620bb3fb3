// An iK Pay client written the way iKhokha's own public example signs and
// calls the API (github.com/ikhokha/ik-pay-api-examples,
// nodejs/pay-api-app/backend/paylink.js): IK-SIGN is the hex HMAC-SHA256,
// keyed with the trimmed application key, of (url path + JSON body) with \,
// " and ' backslash-escaped and NUL written \0; GETs sign the path alone,
// history signs its path without the query string. The example uses
// crypto-js and axios; this one uses Node's own crypto and fetch, which
// compute and send the same bytes.
//
// Usage: IK_BASE_URL=http://127.0.0.1:8089/ikhokha IK_APPID=… IK_APPSECRET=… \
//   node ikpay_example.js [--csharp] EXTERNAL_TRANSACTION_ID
// --csharp signs as the C# and Dart examples do (' not escaped).
// It prints one JSON line per call and exits 1 on any failure.
"use strict";
const crypto = require("crypto");
const url = require("url");

const BASE_URL = (process.env.IK_BASE_URL || "https://api.ikhokha.com/public-api/v1/api").replace(/\/+$/, "");
const APP_ID = process.env.IK_APPID || "";
const APP_KEY = process.env.IK_APPSECRET || "";
const ENTITY_ID = process.env.IK_ENTITYID || "4";
const csharp = process.argv.includes("--csharp");
const externalID = process.argv.filter((a) => !a.startsWith("--"))[2] || "4";

function escape(payload) {
  if (csharp) {
    return payload.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\u0000/g, "\\0");
  }
  return payload.replace(/[\\"']/g, "\\$&").replace(/\u0000/g, "\\0");
}

function sign(payload) {
  return crypto.createHmac("sha256", APP_KEY.trim()).update(payload, "utf8").digest("hex");
}

async function call(method, endpoint, signedPath, body) {
  const res = await fetch(endpoint, {
    method,
    headers: {
      "Content-Type": "application/json",
      "IK-APPID": APP_ID.trim(),
      "IK-SIGN": sign(escape(signedPath + (body || ""))).trim(),
    },
    body,
  });
  const text = await res.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${method} ${endpoint}: HTTP ${res.status}, not JSON: ${text}`);
  }
  if (res.status !== 200 || data.responseCode !== "00") {
    throw new Error(`${method} ${endpoint}: HTTP ${res.status} ${JSON.stringify(data)}`);
  }
  return data;
}

async function createPaylink(request) {
  const requestBody = JSON.stringify(request);
  const endpoint = `${BASE_URL}/payment`;
  const path = new url.parse(endpoint).path;
  return call("POST", endpoint, path, requestBody);
}

async function getStatusById(paylinkID) {
  const endpoint = `${BASE_URL}/getStatus/${paylinkID}`;
  const path = new url.parse(endpoint).path;
  return call("GET", endpoint, path);
}

async function getPaymentHistory(startDate, endDate) {
  const endpoint = `${BASE_URL}/payments/history`;
  const path = new url.parse(endpoint).path;
  return call("GET", `${endpoint}?startDate=${startDate}&endDate=${endDate}`, path);
}

async function main() {
  const request = {
    entityID: ENTITY_ID,
    externalEntityID: "4",
    amount: 200,
    currency: "ZAR",
    requesterUrl: "https://example.com/requester",
    description: "Test Description 1 \u2014 O'Brien's \"special\" order \\ #1",
    paymentReference: "4",
    mode: "live",
    externalTransactionID: externalID,
    urls: {
      callbackUrl: "https://example.com/callback",
      successPageUrl: "https://example.com/success",
      failurePageUrl: "https://example.com/failure",
      cancelUrl: "https://example.com/cancel",
    },
  };
  const created = await createPaylink(request);
  console.log(JSON.stringify({ call: "createPaylink", response: created }));
  const status = await getStatusById(created.paylinkID);
  console.log(JSON.stringify({ call: "getStatusById", response: status }));
  const today = new Date();
  const day = (d) => d.toISOString().slice(0, 10);
  const history = await getPaymentHistory(day(new Date(today.getTime() - 86400000)), day(new Date(today.getTime() + 86400000)));
  console.log(JSON.stringify({ call: "getPaymentHistory", response: history }));
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
