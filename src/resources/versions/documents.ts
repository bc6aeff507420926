import { MAX_VERSION, MIN_VERSION, versionString } from "../../http/microversion";
import { arrayOf, object, string, wrapped } from "../../validation/shapes";

// The versions documents (docs/upstream.md, "Versions documents"). `id` is
// "v1.0" and docs are https, whatever the api-ref samples say.

const UPDATED = "2016-07-01T11:33:21Z";
const MEDIA_TYPES = [{ base: "application/json", type: "application/vnd.openstack.masakari+json;version=1" }];

/** `http(s)://host[:port]` of the request, as links start. */
export const applicationUrl = (request: Request) => new URL(request.url).origin;

function summary(base: string) {
  return {
    id: "v1.0",
    status: "CURRENT",
    version: versionString(MAX_VERSION),
    min_version: versionString(MIN_VERSION),
    updated: UPDATED,
    links: [{ rel: "self", href: `${base}/v1/` }],
  };
}

/** GET / */
export const versionList = (base: string) => ({ versions: [summary(base)] });

/** GET /v1, /v1/ and /v1/versions/v1.0 */
export function versionDocument(base: string) {
  const doc = summary(base);
  return {
    version: {
      ...doc,
      links: [...doc.links, { rel: "describedby", type: "text/html", href: "https://docs.openstack.org/" }],
      "media-types": MEDIA_TYPES,
    },
  };
}

/** 300 for any other path outside /v1: the self link is /v1 plus the path. */
export function choices(base: string, path: string) {
  return {
    choices: [
      {
        id: "v1.0",
        status: "CURRENT",
        links: [{ rel: "self", href: `${base}/v1${path}` }],
        "media-types": MEDIA_TYPES,
      },
    ],
  };
}

const link = object({ rel: string(), href: string() }, []);
const linkWithType = object({ rel: string(), href: string(), type: string() }, ["type"]);
const mediaType = object({ base: string(), type: string() });
const version = {
  id: string({ examples: ["v1.0"] }),
  status: string({ examples: ["CURRENT"] }),
  version: string({ description: "The highest microversion", examples: ["1.3"] }),
  min_version: string({ examples: ["1.0"] }),
  updated: string(),
};

/** GET / */
export const versionListSchema = wrapped("versions", arrayOf(object({ ...version, links: arrayOf(link) })));

/** GET /v1 */
export const versionDocumentSchema = wrapped(
  "version",
  object({ ...version, links: arrayOf(linkWithType), "media-types": arrayOf(mediaType) }),
);
