"""HTTP: the public, read-only ORUK 3.0 API under ``/oruk/`` and a council admin's uploads."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from api.auth.tokens import Principal, require_roles
from api.core.deps import AUTHED, DbDep, problems
from api.core.errors import FieldProblem, ProblemDetails, ProblemError
from api.core.schemas import POSTCODE_PATTERN
from api.core.vocabulary import Role
from api.directory import publish, service
from api.directory import schemas as s
from api.directory.sources import DirectoryInputError, read_bytes

MAX_UPLOAD_BYTES = 1024 * 1024
"""Uploads are read up to this size (the service refuses larger bodies before reading them)."""

router = APIRouter()
oruk = APIRouter(prefix="/oruk", tags=["open referral uk"])
imports = APIRouter(tags=["directory"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]

OrukPageNumber = Annotated[int, Query(ge=1, le=1_000_000, description="Page number (from 1).")]
PerPage = Annotated[int, Query(ge=1, le=100, description="Items per page (at most 100).")]
TermFilter = Annotated[
    UUID | None,
    Query(description="Only services carrying this taxonomy term (see `/oruk/taxonomy_terms`)."),
]
PUBLIC = (404, 422, 503)


@oruk.get("/", response_model=s.ApiMeta, summary="About this ORUK API")
def root() -> s.ApiMeta:
    """The Open Referral UK profile and version this API follows (HSDS-UK-3.0)."""
    return publish.api_meta()


@oruk.get(
    "/services",
    response_model=s.OrukPage[s.Service],
    summary="Food services, fully nested",
    responses=problems(422, 503),
    response_model_exclude_none=True,
)
def list_services(
    db: DbDep,
    page: OrukPageNumber = 1,
    per_page: PerPage = 50,
    taxonomy_term_id: TermFilter = None,
) -> s.OrukPage[s.Service]:
    """Every service with an open site: its sites, charity, schedules, service areas, dietary
    terms and HSDS 3.1 `capacities` (food parcels free now, and the period's figure)."""
    return publish.services_page(db, page, per_page, taxonomy_term_id)


@oruk.get(
    "/services/{id}",
    response_model=s.Service,
    summary="One food service",
    responses=problems(*PUBLIC),
    response_model_exclude_none=True,
)
def get_service(id: UUID, db: DbDep) -> s.Service:
    """A fully nested service."""
    return publish.service_by_id(db, id)


@oruk.get(
    "/service_at_locations",
    response_model=s.OrukPage[s.ServiceAtLocation],
    summary="Sites, optionally near a postcode",
    responses=problems(422, 503),
    response_model_exclude_none=True,
)
def list_service_at_locations(
    db: DbDep,
    page: OrukPageNumber = 1,
    per_page: PerPage = 50,
    postcode: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=8,
            pattern=POSTCODE_PATTERN,
            description="A UK postcode or district: only sites whose service area takes it, "
            "nearest first (measured from the district's centre).",
        ),
    ] = None,
    proximity: Annotated[
        float | None,
        Query(
            gt=0,
            le=1_000_000,
            description="Only sites within this many metres of the postcode's district centre.",
        ),
    ] = None,
    taxonomy_term_id: TermFilter = None,
) -> s.OrukPage[s.ServiceAtLocation]:
    """Each site as a service at a location, with its service and capacity nested."""
    return publish.service_at_locations_page(
        db,
        page,
        per_page,
        postcode=postcode,
        proximity_m=proximity,
        taxonomy_term_id=taxonomy_term_id,
    )


@oruk.get(
    "/service_at_locations/{id}",
    response_model=s.ServiceAtLocation,
    summary="One site",
    responses=problems(*PUBLIC),
    response_model_exclude_none=True,
)
def get_service_at_location(id: UUID, db: DbDep) -> s.ServiceAtLocation:
    """One site with its location and its service."""
    return publish.service_at_location_by_id(db, id)


@oruk.get(
    "/taxonomies",
    response_model=s.OrukPage[s.Taxonomy],
    summary="Taxonomies",
    responses=problems(422),
    response_model_exclude_none=True,
)
def list_taxonomies(page: OrukPageNumber = 1, per_page: PerPage = 50) -> s.OrukPage[s.Taxonomy]:
    """The food-support vocabulary foodmatch publishes."""
    return publish.taxonomies_page(page, per_page)


@oruk.get(
    "/taxonomies/{id}",
    response_model=s.Taxonomy,
    summary="One taxonomy with its terms",
    responses=problems(404, 422),
    response_model_exclude_none=True,
)
def get_taxonomy(id: UUID) -> s.Taxonomy:
    """The food-support vocabulary with its terms."""
    return publish.taxonomy_by_id(id)


@oruk.get(
    "/taxonomy_terms",
    response_model=s.OrukPage[s.TaxonomyTerm],
    summary="Taxonomy terms",
    responses=problems(422),
    response_model_exclude_none=True,
)
def list_taxonomy_terms(
    page: OrukPageNumber = 1, per_page: PerPage = 50
) -> s.OrukPage[s.TaxonomyTerm]:
    """Food support and dietary needs: the terms services carry as attributes."""
    return publish.taxonomy_terms_page(page, per_page)


@oruk.get(
    "/taxonomy_terms/{id}",
    response_model=s.TaxonomyTerm,
    summary="One taxonomy term",
    responses=problems(404, 422),
    response_model_exclude_none=True,
)
def get_taxonomy_term(id: UUID) -> s.TaxonomyTerm:
    """One term."""
    return publish.taxonomy_term_by_id(id)


@imports.post(
    "/directory/imports",
    response_model=s.ImportReport,
    summary="Import a directory feed or spreadsheet",
    responses=problems(*AUTHED, 409)
    | {413: {"model": ProblemDetails, "description": "The file is larger than 1 MiB."}},
)
def import_directory(
    principal: Admin,
    db: DbDep,
    file: Annotated[
        UploadFile,
        File(
            description="An ORUK 3.0 JSON feed (a service, a page, or pages), or a CSV or "
            "XLSX file in the matching contract's providers columns."
        ),
    ],
    organisation: Annotated[
        str | None,
        Form(
            max_length=200,
            description="The charity that runs the sites when the file does not say "
            "(required for spreadsheets; created if new).",
        ),
    ] = None,
    dry_run: Annotated[bool, Form(description="Report what would change; change nothing.")] = False,
) -> s.ImportReport:
    """Import the council's directory (a council admin). Refused whole, listing every problem
    (service id or row, field, what was expected), when anything is wrong; importing the same
    file again changes nothing; capacity a charity set in foodmatch is never replaced."""
    service.check_importer(principal)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProblemError(413, f"The file is larger than {MAX_UPLOAD_BYTES} bytes.")
    name = file.filename or "upload"
    try:
        source = read_bytes(data, name)
        return service.import_source(
            db, principal, source, organisation=organisation, dry_run=dry_run
        )
    except DirectoryInputError as exc:
        raise ProblemError(
            422,
            str(exc),
            kind="invalid-directory",
            errors=[
                FieldProblem(
                    field=p.where() if p.field is None else f"{p.where()}: {p.field}",
                    location="file",
                    message=p.message,
                )
                for p in exc.problems
            ],
        ) from None


router.include_router(oruk)
router.include_router(imports)
