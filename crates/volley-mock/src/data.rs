//! Deterministic user and post records, shaped like jsonplaceholder's.
//!
//! Ids 1 to 10 give the ten well-known jsonplaceholder users; larger ids reuse
//! one of those records with the id worked into the username and email, so
//! every id has its own stable content. Records for small ids are serialised
//! once and then shared.

use std::borrow::Cow;
use std::sync::LazyLock;

use bytes::Bytes;
use serde::Serialize;

/// Ids up to this one are served from a pre-serialised cache.
const CACHED: u64 = 100;

struct UserSeed {
    name: &'static str,
    username: &'static str,
    email_local: &'static str,
    email_domain: &'static str,
    street: &'static str,
    suite: &'static str,
    city: &'static str,
    zipcode: &'static str,
    lat: &'static str,
    lng: &'static str,
    phone: &'static str,
    website: &'static str,
    company: &'static str,
    catch_phrase: &'static str,
    bs: &'static str,
}

macro_rules! seed {
    ($name:literal, $user:literal, $local:literal, $domain:literal, $street:literal, $suite:literal,
     $city:literal, $zip:literal, $lat:literal, $lng:literal, $phone:literal, $web:literal,
     $company:literal, $catch:literal, $bs:literal) => {
        UserSeed {
            name: $name,
            username: $user,
            email_local: $local,
            email_domain: $domain,
            street: $street,
            suite: $suite,
            city: $city,
            zipcode: $zip,
            lat: $lat,
            lng: $lng,
            phone: $phone,
            website: $web,
            company: $company,
            catch_phrase: $catch,
            bs: $bs,
        }
    };
}

const USERS: [UserSeed; 10] = [
    seed!(
        "Leanne Graham",
        "Bret",
        "Sincere",
        "april.biz",
        "Kulas Light",
        "Apt. 556",
        "Gwenborough",
        "92998-3874",
        "-37.3159",
        "81.1496",
        "1-770-736-8031 x56442",
        "hildegard.org",
        "Romaguera-Crona",
        "Multi-layered client-server neural-net",
        "harness real-time e-markets"
    ),
    seed!(
        "Ervin Howell",
        "Antonette",
        "Shanna",
        "melissa.tv",
        "Victor Plains",
        "Suite 879",
        "Wisokyburgh",
        "90566-7771",
        "-43.9509",
        "-34.4618",
        "010-692-6593 x09125",
        "anastasia.net",
        "Deckow-Crist",
        "Proactive didactic contingency",
        "synergize scalable supply-chains"
    ),
    seed!(
        "Clementine Bauch",
        "Samantha",
        "Nathan",
        "yesenia.net",
        "Douglas Extension",
        "Suite 847",
        "McKenziehaven",
        "59590-4157",
        "-68.6102",
        "-47.0653",
        "1-463-123-4447",
        "ramiro.info",
        "Romaguera-Jacobson",
        "Face to face bifurcated interface",
        "e-enable strategic applications"
    ),
    seed!(
        "Patricia Lebsack",
        "Karianne",
        "Julianne.OConner",
        "kory.org",
        "Hoeger Mall",
        "Apt. 692",
        "South Elvis",
        "53919-4257",
        "29.4572",
        "-164.2990",
        "493-170-9623 x156",
        "kale.biz",
        "Robel-Corkery",
        "Multi-tiered zero tolerance productivity",
        "transition cutting-edge web services"
    ),
    seed!(
        "Chelsey Dietrich",
        "Kamren",
        "Lucio_Hettinger",
        "annie.ca",
        "Skiles Walks",
        "Suite 351",
        "Roscoeview",
        "33263",
        "-31.8129",
        "62.5342",
        "(254)954-1289",
        "demarco.info",
        "Keebler LLC",
        "User-centric fault-tolerant solution",
        "revolutionize end-to-end systems"
    ),
    seed!(
        "Mrs. Dennis Schulist",
        "Leopoldo_Corkery",
        "Karley_Dach",
        "jasper.info",
        "Norberto Crossing",
        "Apt. 950",
        "South Christy",
        "23505-1337",
        "-71.4197",
        "71.7478",
        "1-477-935-8478 x6430",
        "ola.org",
        "Considine-Lockman",
        "Synchronised bottom-line interface",
        "e-enable innovative applications"
    ),
    seed!(
        "Kurtis Weissnat",
        "Elwyn.Skiles",
        "Telly.Hoeger",
        "billy.biz",
        "Rex Trail",
        "Suite 280",
        "Howemouth",
        "58804-1099",
        "24.8918",
        "21.8984",
        "210.067.6132",
        "elvis.io",
        "Johns Group",
        "Configurable multimedia task-force",
        "generate enterprise e-tailers"
    ),
    seed!(
        "Nicholas Runolfsdottir V",
        "Maxime_Nienow",
        "Sherwood",
        "rosamond.me",
        "Ellsworth Summit",
        "Suite 729",
        "Aliyaview",
        "45169",
        "-14.3990",
        "-120.7677",
        "586.493.6943 x140",
        "jacynthe.com",
        "Abernathy Group",
        "Implemented secondary concept",
        "e-enable extensible e-tailers"
    ),
    seed!(
        "Glenna Reichert",
        "Delphine",
        "Chaim_McDermott",
        "dana.io",
        "Dayna Park",
        "Suite 449",
        "Bartholomebury",
        "76495-3109",
        "24.6463",
        "-168.8889",
        "(775)976-6794 x41206",
        "conrad.com",
        "Yost and Sons",
        "Switchable contextually-based project",
        "aggregate real-time technologies"
    ),
    seed!(
        "Clementina DuBuque",
        "Moriah.Stanton",
        "Rey.Padberg",
        "karina.biz",
        "Kattie Turnpike",
        "Suite 198",
        "Lebsackbury",
        "31428-2261",
        "-38.2386",
        "57.2232",
        "024-648-3804",
        "ambrose.net",
        "Hoeger LLC",
        "Centralized empowering task-force",
        "target end-to-end models"
    ),
];

const TITLES: [&str; 7] = [
    "sunt aut facere repellat provident occaecati excepturi optio reprehenderit",
    "qui est esse",
    "ea molestias quasi exercitationem repellat qui ipsa sit aut",
    "eum et est occaecati",
    "nesciunt quas odio",
    "dolorem eum magni eos aperiam quia",
    "magnam facilis autem",
];

const BODIES: [&str; 5] = [
    "quia et suscipit\nsuscipit recusandae consequuntur expedita et cum\nreprehenderit molestiae ut ut quas totam\nnostrum rerum est autem sunt rem eveniet architecto",
    "est rerum tempore vitae\nsequi sint nihil reprehenderit dolor beatae ea dolores neque\nfugiat blanditiis voluptate porro vel nihil molestiae ut reiciendis\nqui aperiam non debitis possimus qui neque nisi nulla",
    "et iusto sed quo iure\nvoluptatem occaecati omnis eligendi aut ad\nvoluptatem doloribus vel accusantium quis pariatur\nmolestiae porro eius odio et labore et velit aut",
    "ullam et saepe reiciendis voluptatem adipisci\nsit amet autem assumenda provident rerum culpa\nquis hic commodi nesciunt rem tenetur doloremque ipsam iure\nquis sunt voluptatem rerum illo velit",
    "repudiandae veniam quaerat sunt sed\nalias aut fugiat sit autem sed est\nvoluptatem omnis possimus esse voluptatibus quis\nest aut tenetur dolor neque",
];

#[derive(Serialize)]
struct User<'a> {
    id: u64,
    name: &'a str,
    username: Cow<'a, str>,
    email: Cow<'a, str>,
    address: Address<'a>,
    phone: &'a str,
    website: &'a str,
    company: Company<'a>,
}

#[derive(Serialize)]
struct Address<'a> {
    street: &'a str,
    suite: &'a str,
    city: &'a str,
    zipcode: &'a str,
    geo: Geo<'a>,
}

#[derive(Serialize)]
struct Geo<'a> {
    lat: &'a str,
    lng: &'a str,
}

#[derive(Serialize)]
struct Company<'a> {
    name: &'a str,
    #[serde(rename = "catchPhrase")]
    catch_phrase: &'a str,
    bs: &'a str,
}

#[derive(Serialize)]
struct Post<'a> {
    #[serde(rename = "userId")]
    user_id: u64,
    id: u64,
    title: &'a str,
    body: &'a str,
}

/// Index into a table of `len` entries for a 1-based id.
fn slot(id: u64, len: usize) -> usize {
    // `len` is a small table length, so the remainder always fits in usize.
    ((id - 1) % len as u64) as usize
}

fn render_user(id: u64) -> Bytes {
    let seed = &USERS[slot(id, USERS.len())];
    let (username, email) = if id <= USERS.len() as u64 {
        (
            Cow::Borrowed(seed.username),
            Cow::Owned(format!("{}@{}", seed.email_local, seed.email_domain)),
        )
    } else {
        (
            Cow::Owned(format!("{}{id}", seed.username)),
            Cow::Owned(format!("{}.{id}@{}", seed.email_local, seed.email_domain)),
        )
    };
    let user = User {
        id,
        name: seed.name,
        username,
        email,
        address: Address {
            street: seed.street,
            suite: seed.suite,
            city: seed.city,
            zipcode: seed.zipcode,
            geo: Geo {
                lat: seed.lat,
                lng: seed.lng,
            },
        },
        phone: seed.phone,
        website: seed.website,
        company: Company {
            name: seed.company,
            catch_phrase: seed.catch_phrase,
            bs: seed.bs,
        },
    };
    crate::server::to_json(&user)
}

fn render_post(id: u64) -> Bytes {
    let post = Post {
        user_id: (id - 1) / 10 + 1,
        id,
        title: TITLES[slot(id, TITLES.len())],
        body: BODIES[slot(id, BODIES.len())],
    };
    crate::server::to_json(&post)
}

static USER_CACHE: LazyLock<Vec<Bytes>> = LazyLock::new(|| (1..=CACHED).map(render_user).collect());
static POST_CACHE: LazyLock<Vec<Bytes>> = LazyLock::new(|| (1..=CACHED).map(render_post).collect());

fn cached(cache: &[Bytes], id: u64, render: fn(u64) -> Bytes) -> Bytes {
    match usize::try_from(id - 1).ok().and_then(|i| cache.get(i)) {
        Some(bytes) => bytes.clone(),
        None => render(id),
    }
}

/// The JSON body of user `id` (`id >= 1`).
pub(crate) fn user_json(id: u64) -> Bytes {
    debug_assert!(id >= 1);
    cached(&USER_CACHE, id, render_user)
}

/// The JSON body of post `id` (`id >= 1`).
pub(crate) fn post_json(id: u64) -> Bytes {
    debug_assert!(id >= 1);
    cached(&POST_CACHE, id, render_post)
}
